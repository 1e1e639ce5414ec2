"""账号找回申请 (seed 004: the 申工通账号找回或密码重置申请表, once e-mailed, now a form on the login page).

- **AccountRecovery**: 单位名称, 统一社会信用代码, 参保编码 (optional), 联系人, 手机号码, the reason and
  the stamped application (an image or PDF, checked by content). Anyone may send it without logging
  in; the answer is the same whether the unit has an account or not (no account enumeration), and
  one address may send MAX_PER_IP a day (the throttle counts the table's own rows).
- The centre's queue: `candidates` are the accounts holding an insurance code whose unit name,
  统一社会信用代码 or 参保编码 match (a code's group units too), and the accounts of a registered
  enterprise (an organisation of level "enterprise") with that name or code. 重置密码 picks one:
  a random one-time password (models/orgs/account_ops.reset_password: must be changed at the next
  login, every old session ends) shown once to the operator — never a fixed default like the old
  abc123456 — and the request becomes 已重置; or 驳回 with the reason. Audited.
"""

from datetime import timedelta

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, FieldErrors, now
from models.mutual_aid.code_ops import centre_only
from models.mutual_aid.codes import CodeUnit, InsuranceCode
from models.mutual_aid.form_fields import check_mobile, check_uscc, text_fields
from models.orgs import account_ops
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.review.vouchers import MAX_VOUCHER_BYTES, check_voucher_file
from models.rules.text import compact, normalize
from models.storage import new_file, stored_file
from models.workflow import Workflow, transition

PENDING, RESET, REJECTED = "待处理", "已重置", "已驳回"
STATES = (PENDING, RESET, REJECTED)
FILE_DIR = "account-recovery"
MAX_PER_IP = 3  # requests one address may send in THROTTLE_WINDOW
THROTTLE_WINDOW = timedelta(days=1)
MAX_FILE_BYTES = MAX_VOUCHER_BYTES
FIELDS = {"unit_name": ("单位名称", 100), "uscc": ("统一社会信用代码", 18), "code_no": ("参保编码", 20),
          "contact": ("联系人", 50), "mobile": ("手机号码", 20), "reason": ("申请原因", 500)}
REQUIRED = ("unit_name", "uscc", "contact", "mobile", "reason")
FILE_LABEL = "申请表"
THROTTLED = "今日提交的账号找回申请过多，请明日再试，或拨打12351热线咨询"
ENTERPRISE = "enterprise"  # the level of a unit registered by 企业注册 (no union)


class AccountRecovery(BaseModel):
    WORKFLOW = Workflow("status", {
        (PENDING, "reset"): RESET,
        (PENDING, "reject"): REJECTED,
    }, actions={"reset": "账号找回：重置密码", "reject": "账号找回：驳回"}, needs_reason=frozenset({"reject"}))
    PENDING, RESET, REJECTED = PENDING, RESET, REJECTED

    scope_field = None  # the centre's (and 市总工会's) alone
    unit_name = pw.CharField(max_length=100)  # 单位名称 *
    uscc = pw.CharField(max_length=18, index=True)  # 统一社会信用代码 *
    code_no = pw.CharField(max_length=20, default="")  # 参保编码
    contact = pw.CharField(max_length=50)  # 联系人 *
    mobile = pw.CharField(max_length=20)  # 手机号码 *
    reason = pw.TextField()  # 申请原因 *
    file_name = pw.CharField(max_length=100)  # the stamped application
    stored_name = pw.CharField(max_length=80)
    content_type = pw.CharField(max_length=40)
    ip = pw.CharField(max_length=45, index=True)
    status = pw.CharField(max_length=4, default=PENDING, index=True)
    account = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")  # the account reset
    reply = pw.TextField(default="")  # 驳回原因
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL", backref="decided_recoveries")
    decided_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=now, index=True)

    def __str__(self):
        return f"账号找回申请（{self.unit_name}）"


def clean_fields(form: dict) -> dict:
    values, errors = text_fields(form, FIELDS, REQUIRED)
    check_uscc(values, errors)
    check_mobile(values, errors, "mobile", "手机号码")
    values["code_no"] = compact(values["code_no"]).upper()
    if errors:
        raise FieldErrors("请按提示修改后再提交", errors)
    return values


def throttled(ip: str) -> bool:
    recent = AccountRecovery.select().where((AccountRecovery.ip == ip)
                                            & (AccountRecovery.created_at > now() - THROTTLE_WINDOW))
    return recent.count() >= MAX_PER_IP


def submit(form: dict, file: tuple | None, ip: str) -> AccountRecovery:
    """提交申请 (no login): the fields, the stamped application; the same answer for any unit."""
    ip = (ip or "")[:45]
    if throttled(ip):
        raise DomainError(THROTTLED, 429)
    values = clean_fields(form)
    name, data = file or ("", b"")
    if not data:
        raise FieldErrors("请上传申请表", {"file": "请上传加盖公章的《申工通账号找回或密码重置申请表》（图片或PDF）"})
    content, content_type, ext = check_voucher_file(data, name, FILE_LABEL)
    with new_file(FILE_DIR, content, ext) as stored, db.atomic():
        request = AccountRecovery.create(**values, file_name=normalize(name)[:100] or FILE_LABEL,
                                         stored_name=stored, content_type=content_type, ip=ip)
        AuditLog.record("提交账号找回申请", request, to_state=request.status, ip=ip,
                        detail={"单位名称": values["unit_name"], "统一社会信用代码": values["uscc"]})
    return request


def file_path(request: AccountRecovery):
    return stored_file(FILE_DIR, request.stored_name)


def candidates(request: AccountRecovery) -> list[tuple[Account, str]]:
    """The accounts the request may be about, each with why it matched (匹配依据)."""
    found: dict[int, tuple[Account, list]] = {}

    def add(account, why):
        found.setdefault(account.id, (account, []))[1].append(why)

    by_code = [(InsuranceCode.uscc == request.uscc, "统一社会信用代码"),
               (InsuranceCode.unit_name == request.unit_name, "单位名称")]
    if request.code_no:
        by_code.append((InsuranceCode.code == request.code_no, "参保编码"))
    for condition, why in by_code:
        for code in InsuranceCode.select(InsuranceCode, Account).join(Account).where(condition):
            add(code.account, f"{why}（参保编码{code.code or code.status}）")
    units = (CodeUnit.select(CodeUnit, InsuranceCode, Account).join(InsuranceCode).join(Account)
             .where((CodeUnit.uscc == request.uscc) | (CodeUnit.name == request.unit_name)))
    for unit in units:
        add(unit.code.account, f"集团下属单位「{unit.name}」（参保编码{unit.code.code}）")
    orgs = Organization.select(Organization.id).where(
        (Organization.level == ENTERPRISE) & ((Organization.uscc == request.uscc)
                                              | (Organization.name == request.unit_name)))
    for account in Account.select().where(Account.org.in_(orgs)):
        add(account, "企业注册的单位")
    return [(account, "；".join(dict.fromkeys(whys))) for account, whys in found.values()]


def reset(request: AccountRecovery, account_id, by) -> tuple[Account, str]:
    """重置密码 for the matched account picked: (the account, its one-time password, shown once)."""
    centre_only(by)
    account = next((a for a, _why in candidates(request) if str(a.id) == str(account_id)), None)
    if account is None:
        raise DomainError("请选择与申请匹配的账号（只能为匹配的账号重置密码）", 422)
    with db.atomic():
        transition(request, "reset", account=by, detail={"账号": account.username},
                   updates={"account": account.id, "decided_by": by.id, "decided_at": now()})
        secret = account_ops.reset_password(account, by=by, reason=f"账号找回申请（{request.unit_name}）")
    return account, secret


def reject(request: AccountRecovery, by, reason: str) -> AccountRecovery:
    centre_only(by)
    reason = normalize(reason)
    return transition(request, "reject", account=by, reason=reason,
                      updates={"reply": reason, "decided_by": by.id, "decided_at": now()})


def search(status: str = "", name: str = ""):
    query = AccountRecovery.select()
    if status in STATES:
        query = query.where(AccountRecovery.status == status)
    if name:
        query = query.where(AccountRecovery.unit_name.contains(name) | (AccountRecovery.uscc == name.upper()))
    waiting_first = pw.Case(None, [(AccountRecovery.status == PENDING, 0)], 1)
    return query.order_by(waiting_first, AccountRecovery.created_at.desc(), AccountRecovery.id.desc())
