"""经办人填报 and 信息变更 operations (spec 70, seed 004).

- `save_handler` (经办人填报 → 保存): once per approved code (the unique code column); later changes
  go through a change request. `require_handler` is asked before any enrollment.
- `request_change`: address, handler and e-mail at once (一般信息变更), or the unit name with stamped
  proof (单位名称变更), one waiting per code; the centre's `decide_change` applies it (a new name
  that already has a code is refused then) or declines it with the reason; the unit may withdraw.
"""

import peewee as pw

from models import db, sms
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid.code_ops import centre_only, clash, store_files
from models.mutual_aid.codes import (
    APPROVED,
    GENERAL_CHANGE,
    NAME_CHANGE,
    NAME_PROOF,
    CodeChange,
    CodeHandler,
    CodeUnit,
    InsuranceCode,
)
from models.rules.idnumber import IdError, check_mobile
from models.rules.text import normalize
from models.workflow import transition

HANDLER_REQUIRED = "请先在【经办人填报】中填写经办人姓名、手机、邮箱（获取验证码并保存）后再办理参保"
CHANGE_WAITING = "本单位已有待审核的信息变更申请，请等待互助会处理或撤回后再提交"


def _owner(code: InsuranceCode, account) -> None:
    if code.account_id != account.id:
        raise DomainError("该参保编码不属于本账号（一个参保编码只能在一个平台账号中使用）", 403)
    if code.status != APPROVED:
        raise DomainError(f"参保编码申请{code.status}，审核通过后才能办理", 409)


def clean_handler(name, mobile, email, partial: bool = False) -> dict:
    """经办人姓名 / 手机 / 邮箱, normalised; with `partial` a blank one means unchanged."""
    values = {"name": normalize(name), "mobile": normalize(mobile), "email": normalize(email)}
    errors = {}
    for field, label, size in (("name", "经办人姓名", 50), ("mobile", "经办人手机", 20), ("email", "经办人邮箱", 100)):
        if not values[field] and not partial:
            errors[field] = f"请填写{label}"
        elif len(values[field]) > size:
            errors[field] = f"{label}不能超过{size}个字"
    if values["mobile"] and "mobile" not in errors:
        try:
            values["mobile"] = check_mobile(values["mobile"])
        except IdError as exc:
            errors["mobile"] = f"经办人手机：{exc.message}"
    if values["email"] and "@" not in values["email"]:
        errors["email"] = "经办人邮箱格式不正确"
    if errors:
        raise FieldErrors("请按提示修改后再保存", errors)
    return values


def handlers(query, name: str = "", filled: str = ""):
    """经办人填报 for the unions above and the centre: the approved codes of `query` (already in the
    account's scope) with their handler (None = 未填报); filters 单位名称 (contains), 已填报 / 未填报."""
    query = (query.select(InsuranceCode, CodeHandler).join(CodeHandler, pw.JOIN.LEFT_OUTER,
                                                           on=(CodeHandler.code == InsuranceCode.id), attr="handler")
             .where(InsuranceCode.status == APPROVED))
    if name:
        query = query.where(InsuranceCode.unit_name.contains(name))
    if filled == "已填报":
        query = query.where(CodeHandler.id.is_null(False))
    elif filled == "未填报":
        query = query.where(CodeHandler.id.is_null())
    return query.order_by(InsuranceCode.unit_name, InsuranceCode.id)


def handler_of(code: InsuranceCode) -> CodeHandler | None:
    return CodeHandler.get_or_none(CodeHandler.code == code.id)


def require_handler(code: InsuranceCode) -> CodeHandler:
    handler = handler_of(code)
    if handler is None:
        raise DomainError(HANDLER_REQUIRED, 409)
    return handler


SMS_PURPOSE = "handler"
FILLED = "经办人信息已填报，如需变更请提交信息变更申请"


def send_code(mobile, ip: str = "") -> sms.Sent:
    """获取验证码 for 经办人手机 (models/sms.py)."""
    return sms.send_code(mobile, SMS_PURPOSE, ip)


def save_handler(code: InsuranceCode, account, name, mobile, email, sms_code: str | None = None) -> CodeHandler:
    """经办人填报 → 保存. The screen passes the SMS code typed for 经办人手机 (`sms_code`), spent in
    the same transaction (a wrong one: FieldErrors on sms_code, nothing saved)."""
    _owner(code, account)
    values = clean_handler(name, mobile, email)
    if handler_of(code):
        raise DomainError(FILLED, 409)
    row = None
    if sms_code is not None:
        try:
            row = sms.check(values["mobile"], SMS_PURPOSE, sms_code)
        except DomainError as exc:
            raise FieldErrors(exc.message, {"sms_code": exc.message}) from None
    refused = FILLED
    try:
        with db.atomic():
            if row:
                sms.consume(row)
            handler = CodeHandler.create(code=code.id, updated_by=account.id, **values)
            AuditLog.record("经办人填报", code, account=account, detail={"经办人": values["name"]})
    except pw.IntegrityError:
        raise DomainError(refused, 409) from None
    return handler


def request_change(code: InsuranceCode, account, form: dict, proofs: list | None = None) -> CodeChange:
    """信息变更申请: 一般信息变更 (address / handler / e-mail, any of them at once) or 单位名称变更
    (alone, with stamped proof)."""
    _owner(code, account)
    unit_name = normalize(form.get("unit_name"))
    address = normalize(form.get("address"))
    handler = clean_handler(form.get("handler_name"), form.get("handler_mobile"), form.get("handler_email"),
                            partial=True)
    general = {"address": address, "handler_name": handler["name"], "handler_mobile": handler["mobile"],
               "handler_email": handler["email"]}
    if len(address) > 200:
        raise FieldErrors("单位地址不能超过200个字", {"address": "单位地址不能超过200个字"})
    if unit_name:
        if any(general.values()):
            raise DomainError("单位名称变更须单独申请（携带加盖公章的证明材料），请勿与一般信息变更同时提交", 422)
        if len(unit_name) > 100:
            raise FieldErrors("单位名称不能超过100个字", {"unit_name": "单位名称不能超过100个字"})
        if unit_name == code.unit_name:
            raise FieldErrors("新单位名称与原名称相同", {"unit_name": "新单位名称与原名称相同"})
        if not proofs:
            raise FieldErrors("请上传证明材料", {"files": "单位名称变更须上传加盖公章的名称变更证明材料"
                                                        "（如企业名称变更核准通知书）"})
        refused = clash(unit_name, None, exclude_code=code.id)
        if refused:
            raise DomainError(refused, 409)
    elif not any(general.values()):
        raise DomainError("请填写需要变更的信息（单位地址、经办人或邮箱）", 422)
    if CodeChange.select().where((CodeChange.code == code.id) & (CodeChange.status == CodeChange.WAITING)).exists():
        raise DomainError(CHANGE_WAITING, 409)
    paths = []
    try:
        with db.atomic():
            change = CodeChange.create(code=code.id, kind=NAME_CHANGE if unit_name else GENERAL_CHANGE,
                                       unit_name=unit_name, requested_by=account.id, **general)
            if unit_name:
                paths = store_files(code, proofs, NAME_PROOF, "证明材料", change=change)
            AuditLog.record("提交信息变更申请", change, to_state=change.status, account=account,
                            detail={"变更类型": change.kind})
    except (pw.IntegrityError, DomainError) as exc:
        for path in paths:
            path.unlink(missing_ok=True)
        if isinstance(exc, DomainError):
            raise
        raise DomainError(CHANGE_WAITING, 409) from None
    return change


def decide_change(change: CodeChange, accept: bool, account, reason: str = "") -> CodeChange:
    """The centre: 审核通过 applies the change in the same transaction; 审核不通过 needs the reason."""
    centre_only(account)
    at = now()
    reason = (reason or "").strip()
    if not accept:
        return transition(change, "decline", account=account, reason=reason,
                          updates={"reason": reason, "decided_by": account.id, "decided_at": at})
    code = InsuranceCode.get_by_id(change.code_id)
    try:
        with db.atomic():
            change = transition(change, "accept", account=account,
                                updates={"decided_by": account.id, "decided_at": at})
            if change.kind == NAME_CHANGE:
                refused = clash(change.unit_name, None, exclude_code=code.id)
                if refused:
                    raise DomainError(refused, 409)
                CodeUnit.update(name=change.unit_name).where(
                    (CodeUnit.code == code.id) & CodeUnit.is_main).execute()
                InsuranceCode.update(unit_name=change.unit_name, updated_at=at).where(
                    InsuranceCode.id == code.id).execute()
            else:
                if change.address:
                    InsuranceCode.update(address=change.address, updated_at=at).where(
                        InsuranceCode.id == code.id).execute()
                _apply_handler(code, change, account)
    except pw.IntegrityError:
        refused = clash(change.unit_name, None, exclude_code=code.id)
        raise DomainError(refused or "该单位名称已有参保编码", 409) from None
    return change


def _apply_handler(code: InsuranceCode, change: CodeChange, account) -> None:
    values = {field: value for field, value in (("name", change.handler_name), ("mobile", change.handler_mobile),
                                                ("email", change.handler_email)) if value}
    if not values:
        return
    handler = handler_of(code)
    if handler is None:
        missing = [label for field, label in (("name", "经办人姓名"), ("mobile", "经办人手机"), ("email", "经办人邮箱"))
                   if field not in values]
        if missing:
            raise DomainError(f"本单位尚未填报经办人，变更申请须包含{'、'.join(missing)}", 409)
        CodeHandler.create(code=code.id, updated_by=account.id, **values)
    else:
        CodeHandler.update(updated_by=account.id, updated_at=now(), **values).where(
            CodeHandler.id == handler.id).execute()


def withdraw_change(change: CodeChange, account) -> CodeChange:
    if InsuranceCode.get_by_id(change.code_id).account_id != account.id:
        raise DomainError("只能撤回本账号的信息变更申请", 403)
    return transition(change, "withdraw", account=account)
