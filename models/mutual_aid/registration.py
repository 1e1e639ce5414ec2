"""企业注册 (the login page): a unit without a union registers itself for 在职职工互助保障.

It becomes an Organization of level "enterprise" — no parent, no closure rows, so it is in no
union's subtree, list, count, monitor or statistics — and an Account of role "enterprise" that
sees only the mutual-aid menu. One registration per unit: the unique name and 统一社会信用代码
columns of organization (two registrations of one unit at once leave one); a unit whose name or
code already has an insurance code (CodeUnit) is refused too. The handler's mobile is verified by
an SMS code (models/sms.py, purpose "register"), spent in the registration's transaction; an IP
registers at most PER_HOUR units an hour.
"""

import re
from datetime import timedelta

import peewee as pw

from models import db, sms
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid.code_ops import clash
from models.mutual_aid.form_fields import check_uscc, text_fields
from models.orgs.accounts import Account, check_password_strength
from models.orgs.organizations import ENTERPRISE_LEVEL, ENTERPRISE_TYPE, Organization

PURPOSE = "register"
PER_HOUR = 3
FIELDS = {"unit_name": ("单位名称", 100), "uscc": ("统一社会信用代码", 18), "handler": ("经办人姓名", 50),
          "phone": ("手机号码", 20), "username": ("账号", 50)}
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{3,50}")
TAKEN = "该账号已存在，请换一个"
RECOVER = "如忘记账号或密码，请提交账号找回申请，请勿重复注册"


def clean(form: dict) -> dict:
    """The form's fields, normalised; FieldErrors naming every refused one (passwords included)."""
    values, errors = text_fields(form, FIELDS, FIELDS, compacted=("username",))
    check_uscc(values, errors)
    if values["phone"] and "phone" not in errors:
        try:
            values["phone"] = sms.clean_phone(values["phone"])
        except DomainError as exc:
            errors["phone"] = exc.message
    if values["username"] and "username" not in errors and not USERNAME.fullmatch(values["username"]):
        errors["username"] = "账号为3至50位，只能包含字母、数字和 _ . @ -"
    password, again = form.get("password") or "", form.get("password2") or ""
    if not password:
        errors["password"] = "请填写密码"
    else:
        try:
            check_password_strength(password, values["username"])
        except DomainError as exc:
            errors["password"] = exc.message.replace("新密码", "密码")
        if password != again:
            errors["password2"] = "两次输入的密码不一致"
    if errors:
        raise FieldErrors("请按提示修改后再提交", errors)
    values["password"] = password
    return values


def already(unit_name: str, uscc: str) -> str | None:
    """The refusal when the unit (its name or code) is registered or already has an insurance code."""
    for column, value, what in ((Organization.name, unit_name, f"单位「{unit_name}」"),
                                (Organization.uscc, uscc, f"统一社会信用代码{uscc}")):
        if Organization.select().where(column == value).exists():
            return f"{what}已注册平台账号（或已有工会组织），{RECOVER}"
    return clash(unit_name, uscc)


def check_ip(ip: str) -> None:
    """An IP registers at most PER_HOUR units an hour (counted on the codes it spent)."""
    if ip and sms.used_from(ip, PURPOSE, now() - timedelta(hours=1)) >= PER_HOUR:
        raise DomainError("注册过于频繁，请1小时后再试", 429)


def send_code(phone, ip: str) -> sms.Sent:
    """获取验证码 on the registration form."""
    return sms.send_code(phone, PURPOSE, ip)


def register(form: dict, code: str, ip: str = "") -> Account:
    """注册: the enterprise organisation and its account, in one transaction with the SMS code."""
    values = clean(form)
    refused = already(values["unit_name"], values["uscc"])
    if refused:
        raise DomainError(refused, 409)
    if Account.select().where(Account.username == values["username"]).exists():
        raise FieldErrors(TAKEN, {"username": TAKEN})
    check_ip(ip)
    row = sms.check(values["phone"], PURPOSE, code)
    try:
        with db.atomic():
            sms.consume(row)
            org = Organization.create(name=values["unit_name"], type=ENTERPRISE_TYPE, level=ENTERPRISE_LEVEL,
                                      uscc=values["uscc"], contact=values["handler"], phone=values["phone"])
            account = Account(username=values["username"], display_name=values["handler"], org=org.id)
            account.set_password(values["password"])
            account.save()
            AuditLog.record("企业注册", org, account=account, ip=ip or None,
                            detail={"单位名称": org.name, "统一社会信用代码": org.uscc, "账号": account.username,
                                    "经办人": values["handler"]})
    except pw.IntegrityError:
        refused = already(values["unit_name"], values["uscc"])
        if refused:
            raise DomainError(refused, 409) from None
        raise FieldErrors(TAKEN, {"username": TAKEN}) from None
    return account
