"""参保编码申请 operations (spec 70, seed 004): apply, the centre's decision, resubmission, the
units of a group code, the files. Every status move through models/workflow.py; audit rows there.

- `apply` (提交申请): the fields (* required), at least one file (images / PDF, checked by content),
  one application per platform account (the unique account column: a second form, or two at
  once, is refused), a unit name or 统一社会信用代码 that already has a code refused with
  "提交失败" and that code's contact and phone.
- `decide` (the centre): 审核通过 gives the code (typed by the centre, else HZ + 8 digits of the
  application) and makes the applicant's unit the code's first unit — a name approved meanwhile
  for another code is refused then too (the unique CodeUnit.name); 审核不通过 needs the reason.
- `resubmit` (编辑 → 重新提交): 审核不通过 → 申请中 with the corrected fields.
- the screens' helpers: `keep_files` / `kept_files` (files chosen before 提交申请, checked by content
  and kept under tokens only the account opens, so they can be removed before submitting),
  `search` (the centre's queue), `files_of`, `file_path`; each decision posts a 消息提醒.
"""

from contextlib import contextmanager

import peewee as pw

from models import db, messages, sms
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid.codes import (
    APPLICATION_FILE,
    APPROVED,
    CODE_STATES,
    FILE_DIR,
    CodeFile,
    CodeHandler,
    CodeUnit,
    InsuranceCode,
)
from models.mutual_aid.form_fields import check_mobile, check_uscc, text_fields
from models.orgs.organizations import ENTERPRISE_LEVEL, Organization
from models.review.vouchers import MAX_VOUCHER_BYTES, check_voucher_file
from models.rules.text import compact, normalize
from models.rules.uscc import clean_uscc
from models.storage import Kept, keep_upload, kept_upload, new_files, stored_file
from models.workflow import transition

FIELDS = {"unit_name": ("单位名称", 100), "uscc": ("统一社会信用代码", 18), "address": ("单位地址", 200),
          "contact": ("联系人", 50), "phone": ("联系电话", 20), "email": ("单位邮箱", 100)}
REQUIRED = ("unit_name", "uscc", "address", "contact", "phone")
MAX_FILES = 10
PAGE = "/mutual-aid/codes"  # the applicant's page (消息提醒 links to it)
FILE_LABEL = "附件"
MAX_FILE_BYTES = MAX_VOUCHER_BYTES


def clean_fields(form: dict) -> dict:
    """The application's fields, normalised; FieldErrors naming every refused field."""
    values, errors = text_fields(form, FIELDS, REQUIRED)
    check_uscc(values, errors)
    check_mobile(values, errors, "phone", "联系电话")
    if values["email"] and "@" not in values["email"]:
        errors["email"] = "单位邮箱格式不正确"
    if errors:
        raise FieldErrors("请按提示修改后再提交", errors)
    return values


def contact_of(code: InsuranceCode) -> str:
    """联系人 / 联系电话 of a code: its handler's when filled, else the application's."""
    handler = CodeHandler.get_or_none(CodeHandler.code == code.id)
    name, phone = (handler.name, handler.mobile) if handler else (code.contact, code.phone)
    return f"联系人：{name}，联系电话：{phone}"


def clash_message(unit: CodeUnit, what: str) -> str:
    return (f"提交失败：{what}已有参保编码{unit.code.code}（{contact_of(unit.code)}），"
            "一个单位只能有一个参保编码，请与该联系人联系")


def clash(unit_name: str, uscc: str | None, exclude_code: int | None = None) -> str | None:
    """The refusal when the unit name or 统一社会信用代码 already has a code, else None."""
    for column, value, what in ((CodeUnit.name, unit_name, f"单位「{unit_name}」"),
                                (CodeUnit.uscc, uscc, f"统一社会信用代码{uscc}")):
        if not value:
            continue
        query = CodeUnit.select().where(column == value)
        if exclude_code:
            query = query.where(CodeUnit.code != exclude_code)
        unit = query.first()
        if unit:
            return clash_message(unit, what)
    return None


def registered_values(org) -> dict:
    """A registered unit's form starts from what it registered with (企业注册)."""
    return {"unit_name": org.name, "uscc": org.uscc or "", "contact": org.contact, "phone": org.phone}


def registered_elsewhere(unit_name: str, uscc: str, account) -> str | None:
    """The refusal when another account registered this unit (企业注册): the unit applies itself."""
    query = Organization.select().where((Organization.level == ENTERPRISE_LEVEL) & (Organization.id != account.org_id)
                                        & ((Organization.name == unit_name) | (Organization.uscc == uscc)))
    if query.exists():
        return f"提交失败：单位「{unit_name}」已通过企业注册拥有平台账号，请由该单位的账号申请参保编码"
    return None


def checked_files(files: list, label: str) -> list:
    """The uploaded files [(name, bytes)] checked by content: [(name, content, content type, ext)]."""
    if len(files) > MAX_FILES:
        raise DomainError(f"{label}最多上传{MAX_FILES}个文件", 422)
    return [(normalize(name)[:100] or "附件", *check_voucher_file(data, name, label)) for name, data in files]


@contextmanager
def stored_files(checked: list):
    """Write the checked files under new names (yielded, for file_rows); they go again when the
    block — the transaction that names them — fails."""
    with new_files(FILE_DIR, [(content, ext) for _name, content, _type, ext in checked]) as names:
        yield names


def file_rows(code: InsuranceCode, checked: list, names: list, kind: str, change=None) -> None:
    """The CodeFile rows of files written by stored_files."""
    rows = [{"code": code.id, "change": change.id if change else None, "kind": kind, "file_name": name,
             "stored_name": stored, "content_type": content_type, "size": len(content), "uploaded_at": now()}
            for (name, content, content_type, _ext), stored in zip(checked, names, strict=True)]
    if rows:
        CodeFile.insert_many(rows).execute()


def _account_refusal(account) -> str:
    held = InsuranceCode.get_or_none(InsuranceCode.account == account.id)
    what = f"参保编码{held.code}" if held and held.code else f"参保编码申请（{held.status}）" if held else "参保编码"
    return f"本账号已有{what}，一个参保编码只能在一个平台账号中使用，一个账号也只能申请一次"


SMS_PURPOSE = "aid_code"


def send_code(phone, ip: str = "") -> sms.Sent:
    """获取验证码 for the form's 联系电话 (models/sms.py)."""
    return sms.send_code(phone, SMS_PURPOSE, ip)


def _sms_row(phone: str, sms_code):
    """The SMS code typed for 联系电话 (None when the caller verified it or needs none)."""
    if sms_code is None:
        return None
    try:
        return sms.check(phone, SMS_PURPOSE, sms_code)
    except DomainError as exc:
        raise FieldErrors(exc.message, {"sms_code": exc.message}) from None


def apply(account, form: dict, files: list, sms_code: str | None = None) -> InsuranceCode:
    """提交申请: the application in 申请中, its files, one audit row. The screen passes the SMS code
    typed for 联系电话 (`sms_code`), spent in the same transaction."""
    values = clean_fields(form)
    if not files:
        raise FieldErrors("请上传附件", {"files": "请上传《社会保险费缴费申报表》或《单位参加城镇社会保险基本情况》"
                                                "或法人登记证、营业执照（复印件盖公章）"})
    if InsuranceCode.select().where(InsuranceCode.account == account.id).exists():
        raise DomainError(_account_refusal(account), 409)
    refused = clash(values["unit_name"], values["uscc"]) or registered_elsewhere(values["unit_name"], values["uscc"],
                                                                                 account)
    if refused:
        raise DomainError(refused, 409)
    row = _sms_row(values["phone"], sms_code)
    checked = checked_files(files, "附件")
    try:
        with stored_files(checked) as names, db.atomic():
            if row:
                sms.consume(row)
            code = InsuranceCode.create(account=account.id, org=account.org_id, **values)
            file_rows(code, checked, names, APPLICATION_FILE)
            AuditLog.record("申请参保编码", code, to_state=code.status, account=account,
                            detail={"单位名称": values["unit_name"], "统一社会信用代码": values["uscc"]})
    except pw.IntegrityError:
        raise DomainError(_account_refusal(account), 409) from None
    return code


def centre_only(account) -> None:
    if account is None or not account.acts_for_centre:
        raise DomainError("只有上海市职工保障互助会可以审核", 403)


def decide(code: InsuranceCode, approve: bool, account, reason: str = "", number: str = "") -> InsuranceCode:
    """The centre's review: 审核通过 (the code) or 审核不通过 (the reason)."""
    centre_only(account)
    at = now()
    if not approve:
        reason = (reason or "").strip()
        with db.atomic():
            code = transition(code, "refuse", account=account, reason=reason,
                              updates={"reason": reason, "decided_by": account.id, "decided_at": at,
                                       "updated_at": at})
            _tell(code, f"您的参保编码申请「{code.unit_name}」审核不通过",
                  f"原因：{reason}。请点击【编辑】修改后重新提交。")
        return code
    number = compact(number).upper() or f"HZ{code.id:08d}"
    if len(number) > 20:
        raise DomainError("参保编码不能超过20位", 422)
    refused = clash(code.unit_name, code.uscc, exclude_code=code.id)
    if refused:
        raise DomainError(refused, 409)
    if InsuranceCode.select().where(InsuranceCode.code == number).exists():
        raise DomainError(f"参保编码{number}已被使用，请换一个", 409)
    try:
        with db.atomic():
            code = transition(code, "approve", account=account, detail={"参保编码": number},
                              updates={"code": number, "reason": "", "decided_by": account.id, "decided_at": at,
                                       "updated_at": at})
            CodeUnit.create(code=code.id, name=code.unit_name, uscc=code.uscc, is_main=True)
            _tell(code, f"您的参保编码申请「{code.unit_name}」已审核通过", f"参保编码：{number}")
    except pw.IntegrityError:
        refused = clash(code.unit_name, code.uscc, exclude_code=code.id)
        raise DomainError(refused or f"参保编码{number}已被使用，请换一个", 409) from None
    return code


def resubmit(code: InsuranceCode, account, form: dict, files: list | None = None,
             sms_code: str | None = None) -> InsuranceCode:
    """编辑 → 重新提交 after 审核不通过: the corrected fields (and any new files), back to 申请中. A
    changed 联系电话 needs its SMS code (`sms_code`, from the screen); the verified one needs none."""
    if code.account_id != account.id:
        raise DomainError("只能修改本账号的参保编码申请", 403)
    values = clean_fields(form)
    refused = clash(values["unit_name"], values["uscc"]) or registered_elsewhere(values["unit_name"], values["uscc"],
                                                                                 account)
    if refused:
        raise DomainError(refused, 409)
    row = _sms_row(values["phone"], sms_code) if values["phone"] != code.phone else None
    checked = checked_files(files or [], "附件")
    with stored_files(checked) as names, db.atomic():
        if row:
            sms.consume(row)
        code = transition(code, "resubmit", account=account, updates={**values, "updated_at": now()})
        file_rows(code, checked, names, APPLICATION_FILE)
    return code


def add_unit(code: InsuranceCode, name: str, uscc: str, account) -> CodeUnit:
    """The centre adds a unit of the group (集团) to an approved code: its people join the code's roster."""
    centre_only(account)
    if code.status != APPROVED:
        raise DomainError("参保编码审核通过后才能添加集团下属单位", 409)
    name = normalize(name)
    if not name:
        raise FieldErrors("请填写单位名称", {"name": "请填写单位名称"})
    try:
        uscc = clean_uscc(uscc) if normalize(uscc) else None
    except ValueError as exc:
        raise FieldErrors(str(exc), {"uscc": str(exc)}) from None
    refused = clash(name, uscc)
    if refused:
        raise DomainError(refused, 409)
    try:
        with db.atomic():
            unit = CodeUnit.create(code=code.id, name=name, uscc=uscc)
            AuditLog.record("添加集团下属单位", code, account=account, detail={"单位名称": name})
    except pw.IntegrityError:
        raise DomainError(clash(name, uscc) or "该单位已有参保编码", 409) from None
    return unit


def units_of(code: InsuranceCode) -> list:
    return list(CodeUnit.select().where(CodeUnit.code == code.id).order_by(CodeUnit.is_main.desc(), CodeUnit.id))


def _tell(code: InsuranceCode, title: str, body: str) -> None:
    """消息提醒 to the applicant's account about the centre's decision."""
    if code.org_id:
        messages.post(code.org_id, title, body=body, kind="参保编码审核", link=PAGE, account=code.account_id)


# --- the screens' helpers -------------------------------------------------------------------------
def _owner(account) -> str:
    return f"aid-code-{account.id}"


def keep_files(account, files: list) -> list[Kept]:
    """上传文件 before 提交申请: each file checked by content (a refused one keeps nothing), then kept
    under a token only this account opens."""
    checked = [(normalize(name)[:100] or FILE_LABEL, check_voucher_file(data, name, FILE_LABEL)[0])
               for name, data in files]
    return [keep_upload(_owner(account), data, name) for name, data in checked]


def kept_files(account, tokens: list, names: list) -> list[Kept]:
    """The files this account kept for its form (a token of another account opens nothing)."""
    pairs = zip(tokens, names, strict=False)  # a tampered form may send fewer names: those open nothing
    found = (kept_upload(_owner(account), token, normalize(name)[:100]) for token, name in pairs)
    return [kept for kept in found if kept]


def forget_kept(kept: list[Kept]) -> None:
    for item in kept:
        item.path.unlink(missing_ok=True)


def search(query, status: str = "", name: str = ""):
    """The centre's queue: 状态 and 单位名称 (contains) filters, newest first."""
    if status in CODE_STATES:
        query = query.where(InsuranceCode.status == status)
    if name:
        query = query.where(InsuranceCode.unit_name.contains(name))
    return query.order_by(InsuranceCode.applied_at.desc(), InsuranceCode.id.desc())


def find_approved(text: str) -> InsuranceCode | None:
    """An approved code by its 参保编码 or its unit's full name (the admin's quick fix)."""
    text = normalize(text)
    if not text:
        return None
    return (InsuranceCode.select().where((InsuranceCode.status == APPROVED)
                                         & ((InsuranceCode.code == compact(text).upper())
                                            | (InsuranceCode.unit_name == text))).first())


def mine(account) -> InsuranceCode | None:
    return InsuranceCode.get_or_none(InsuranceCode.account == account.id)


def files_of(code: InsuranceCode) -> list:
    return list(CodeFile.select().where(CodeFile.code == code.id, CodeFile.kind == APPLICATION_FILE)
                .order_by(CodeFile.id))


def file_path(row: CodeFile):
    return stored_file(FILE_DIR, row.stored_name)
