"""经办人填报 operations (spec 70, seed 004).

- `save_handler` (经办人填报 → 保存): once per approved code (the unique code column); later changes
  go through 信息变更申请 (models/mutual_aid/change_ops.py). `require_handler` is asked before any
  enrollment; `owned_code` is the check both screens make (the account's own, approved code).
"""

import peewee as pw

from models import db, sms
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid.codes import APPROVED, CodeHandler, InsuranceCode
from models.mutual_aid.form_fields import check_mobile, text_fields

HANDLER_FIELDS = {"name": ("经办人姓名", 50), "mobile": ("经办人手机", 20), "email": ("经办人邮箱", 100)}
HANDLER_REQUIRED = "请先在【经办人填报】中填写经办人姓名、手机、邮箱（获取验证码并保存）后再办理参保"


def owned_code(code: InsuranceCode, account) -> None:
    if code.account_id != account.id:
        raise DomainError("该参保编码不属于本账号（一个参保编码只能在一个平台账号中使用）", 403)
    if code.status != APPROVED:
        raise DomainError(f"参保编码申请{code.status}，审核通过后才能办理", 409)


def clean_handler(name, mobile, email, partial: bool = False) -> dict:
    """经办人姓名 / 手机 / 邮箱, normalised; with `partial` a blank one means unchanged."""
    values, errors = text_fields({"name": name, "mobile": mobile, "email": email}, HANDLER_FIELDS,
                                 () if partial else HANDLER_FIELDS)
    check_mobile(values, errors, "mobile", "经办人手机")
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
    owned_code(code, account)
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
