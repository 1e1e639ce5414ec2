"""信息变更申请 and 信息变更审核 (spec 70 "Handler and changes", seed 004 pages 18–19, FAQ).

- `change_general` (一般信息变更: 单位地址, 单位邮箱, 经办人姓名 / 手机 / 邮箱): takes effect at once — the
  issue's "address, handler, e-mail at once". Its CodeChange row is written in 已生效 (nobody decides
  it) and the code's 操作日志 keeps every field's old and new value.
  A new 经办人手机 needs the SMS code sent to it (models/sms.py, purpose "handler" — exactly as
  经办人填报), spent in the same transaction; a wrong or missing one changes nothing.
- `request_name_change` (单位名称变更): the new name with stamped proof (images / PDF checked by
  content), one waiting per code (the partial unique index; a second form, or two at once, is
  refused), a name that already has a code refused with that code's contact.
- `decide_change` (the centre): 审核通过 renames the code and its main unit in the same transaction
  (a name taken meanwhile is refused then, the unique CodeUnit.name); 审核不通过 needs the reason.
  Each decision is a 消息提醒 to the unit. `withdraw_change`: the unit takes a waiting one back.
- `in_scope`, `sees`, `search`, `history_of`, `files_of`: the screens' queries (the centre and 市总工会
  see every code's changes, a district / secondary union those of the codes in its subtree (the
  change's org column, its code's organisation), a unit its own account's).
"""

import peewee as pw

from models import db, messages, sms
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.mutual_aid import handler_ops
from models.mutual_aid.code_ops import centre_only, checked_files, clash, file_rows, stored_files
from models.mutual_aid.codes import (
    APPLIED,
    CHANGE_STATES,
    FILE_DIR,
    GENERAL_CHANGE,
    NAME_CHANGE,
    NAME_PROOF,
    CodeChange,
    CodeFile,
    CodeHandler,
    CodeUnit,
    InsuranceCode,
)
from models.mutual_aid.handler_ops import clean_handler, handler_of, owned_code
from models.rules.text import normalize
from models.storage import stored_file
from models.workflow import transition

PAGE = "/mutual-aid/changes/"  # the unit's 信息变更申请 (消息提醒 links to it)
CHANGE_WAITING = "本单位已有待审核的单位名称变更申请，请等待互助会处理或撤回后再提交"
# 一般信息变更's fields: (form name, label, where it lives, its column there)
GENERAL_FIELDS = (("address", "单位地址", "code", "address"), ("email", "单位邮箱", "code", "email"),
                  ("handler_name", "经办人姓名", "handler", "name"),
                  ("handler_mobile", "经办人手机", "handler", "mobile"),
                  ("handler_email", "经办人邮箱", "handler", "email"))
PROOF_HINT = "单位名称变更须上传加盖公章的名称变更证明材料（如企业名称变更核准通知书、准予变更登记通知书）"


def _clean_general(form: dict) -> dict:
    """The general fields typed (blank = unchanged), normalised; FieldErrors naming the refused ones."""
    address, email = normalize(form.get("address")), normalize(form.get("email"))
    errors = {}
    if len(address) > 200:
        errors["address"] = "单位地址不能超过200个字"
    if len(email) > 100:
        errors["email"] = "单位邮箱不能超过100个字"
    elif email and "@" not in email:
        errors["email"] = "单位邮箱格式不正确"
    try:
        handler = clean_handler(form.get("handler_name"), form.get("handler_mobile"), form.get("handler_email"),
                                partial=True)
    except FieldErrors as exc:
        errors.update({f"handler_{name}": message for name, message in exc.errors.items()})
        handler = {}
    if errors:
        raise FieldErrors("请按提示修改后再提交", errors)
    return {"address": address, "email": email, "handler_name": handler["name"],
            "handler_mobile": handler["mobile"], "handler_email": handler["email"]}


def current_values(code: InsuranceCode, handler: CodeHandler | None) -> dict:
    return {name: getattr(code if where == "code" else handler, column) if where == "code" or handler else ""
            for name, _label, where, column in GENERAL_FIELDS}


def send_mobile_code(mobile, ip: str = "") -> sms.Sent:
    """获取验证码 for the new 经办人手机 (the same purpose as 经办人填报's: one code serves the mobile)."""
    try:
        return handler_ops.send_code(mobile, ip)
    except DomainError as exc:
        raise FieldErrors(exc.message.replace("手机号码", "经办人手机"),
                          {"handler_mobile": exc.message.replace("手机号码", "经办人手机")}) from None


def change_general(code: InsuranceCode, account, form: dict, sms_code: str = "") -> CodeChange:
    """一般信息变更: the fields that differ from the current ones are applied at once (audited); a new
    经办人手机 only with the SMS code sent to it (`sms_code`, FieldErrors on sms_code otherwise)."""
    owned_code(code, account)
    typed = _clean_general(form)
    handler = handler_of(code)
    current = current_values(code, handler)
    changed = {name: value for name, value in typed.items() if value and value != current[name]}
    if not changed:
        raise DomainError("没有需要变更的信息：请填写与现有信息不同的单位地址、单位邮箱或经办人信息", 422)
    handler_values = {column: changed[name] for name, _l, where, column in GENERAL_FIELDS
                      if where == "handler" and name in changed}
    if handler is None and handler_values:
        missing = [label for name, label, where, column in GENERAL_FIELDS
                   if where == "handler" and column not in handler_values]
        if missing:
            raise DomainError(f"本单位尚未填报经办人，请先完成经办人填报（缺{'、'.join(missing)}）", 409)
    texted = None
    if "handler_mobile" in changed:  # the new mobile proves itself, as in 经办人填报
        try:
            texted = sms.check(changed["handler_mobile"], handler_ops.SMS_PURPOSE, sms_code)
        except DomainError as exc:
            raise FieldErrors(exc.message, {"sms_code": exc.message}) from None
    at = now()
    with db.atomic():
        if texted is not None:
            sms.consume(texted)
        change = CodeChange.create(code=code.id, org=code.org_id, kind=GENERAL_CHANGE, status=APPLIED,
                                   requested_by=account.id, requested_at=at, decided_at=at, **changed)
        code_values = {column: changed[name] for name, _l, where, column in GENERAL_FIELDS
                       if where == "code" and name in changed}
        if code_values:
            InsuranceCode.update(updated_at=at, **code_values).where(InsuranceCode.id == code.id).execute()
        if handler is not None and handler_values:
            CodeHandler.update(updated_by=account.id, updated_at=at, **handler_values).where(
                CodeHandler.id == handler.id).execute()
        elif handler_values:
            CodeHandler.create(code=code.id, updated_by=account.id, updated_at=at, **handler_values)
        AuditLog.record(GENERAL_CHANGE, code, account=account, to_state=APPLIED,
                        detail={label: [current[name], changed[name]]
                                for name, label, _w, _c in GENERAL_FIELDS if name in changed})
    return change


def _waiting(code: InsuranceCode) -> bool:
    return CodeChange.select().where((CodeChange.code == code.id) & (CodeChange.status == CodeChange.WAITING)).exists()


def request_name_change(code: InsuranceCode, account, unit_name, proofs: list) -> CodeChange:
    """单位名称变更: the new name and its stamped proof [(file name, bytes)], waiting for the centre."""
    owned_code(code, account)
    unit_name = normalize(unit_name)
    if not unit_name:
        raise FieldErrors("请填写新单位名称", {"unit_name": "请填写新单位名称"})
    if len(unit_name) > 100:
        raise FieldErrors("单位名称不能超过100个字", {"unit_name": "单位名称不能超过100个字"})
    if unit_name == code.unit_name:
        raise FieldErrors("新单位名称与原名称相同", {"unit_name": "新单位名称与原名称相同"})
    if not proofs:
        raise FieldErrors("请上传证明材料", {"files": PROOF_HINT})
    refused = clash(unit_name, None, exclude_code=code.id)
    if refused:
        raise DomainError(refused, 409)
    if _waiting(code):
        raise DomainError(CHANGE_WAITING, 409)
    checked = checked_files(proofs, "证明材料")
    try:
        with stored_files(checked) as names, db.atomic():
            change = CodeChange.create(code=code.id, org=code.org_id, kind=NAME_CHANGE, unit_name=unit_name,
                                       old_unit_name=code.unit_name, requested_by=account.id)
            file_rows(code, checked, names, NAME_PROOF, change=change)
            AuditLog.record("提交单位名称变更申请", change, to_state=change.status, account=account,
                            detail={"原单位名称": code.unit_name, "新单位名称": unit_name})
    except pw.IntegrityError:
        raise DomainError(CHANGE_WAITING, 409) from None
    return change


def request_change(code: InsuranceCode, account, form: dict, proofs: list | None = None) -> CodeChange:
    """One form with any of the fields: a new unit name goes alone (with proof) to the centre, the
    general fields apply at once."""
    if normalize(form.get("unit_name")):
        if any(normalize(form.get(name)) for name, *_ in GENERAL_FIELDS):
            raise DomainError("单位名称变更须单独申请（上传加盖公章的证明材料），请勿与一般信息变更同时提交", 422)
        return request_name_change(code, account, form.get("unit_name"), proofs or [])
    return change_general(code, account, form)


def _tell(code: InsuranceCode, title: str, body: str) -> None:
    """消息提醒 to the unit's account about the centre's decision."""
    if code.org_id:
        messages.post(code.org_id, title, body=body, kind="信息变更审核", link=PAGE, account=code.account_id)


def decide_change(change: CodeChange, accept: bool, account, reason: str = "") -> CodeChange:
    """The centre: 审核通过 renames the code and its main unit at once; 审核不通过 needs the reason."""
    centre_only(account)
    at = now()
    reason = normalize(reason)
    code = InsuranceCode.get_by_id(change.code_id)
    if not accept:
        with db.atomic():
            change = transition(change, "decline", account=account, reason=reason,
                                updates={"reason": reason, "decided_by": account.id, "decided_at": at})
            _tell(code, f"您的单位名称变更申请「{change.unit_name}」审核不通过",
                  f"原因：{reason}。如需变更，请按原因修改后重新提交。")
        return change
    refused = clash(change.unit_name, None, exclude_code=code.id)
    if refused:
        raise DomainError(refused, 409)
    try:
        with db.atomic():
            change = transition(change, "accept", account=account, detail={"新单位名称": change.unit_name},
                                updates={"decided_by": account.id, "decided_at": at})
            CodeUnit.update(name=change.unit_name).where((CodeUnit.code == code.id) & CodeUnit.is_main).execute()
            InsuranceCode.update(unit_name=change.unit_name, updated_at=at).where(
                InsuranceCode.id == code.id).execute()
            _tell(code, f"您的单位名称变更申请「{change.unit_name}」已审核通过",
                  f"单位名称已由「{change.old_unit_name}」变更为「{change.unit_name}」，参保编码{code.code}不变。")
    except pw.IntegrityError:
        raise DomainError(clash(change.unit_name, None, exclude_code=code.id) or "该单位名称已有参保编码",
                          409) from None
    return change


def withdraw_change(change: CodeChange, account) -> CodeChange:
    if InsuranceCode.get_by_id(change.code_id).account_id != account.id:
        raise DomainError("只能撤回本账号的信息变更申请", 403)
    return transition(change, "withdraw", account=account)


# --- the screens' queries ----------------------------------------------------------------------
def in_scope(account):
    """The change requests the account sees: every one for the centre / 市总工会 / admin, those of the
    codes in a district's or secondary union's subtree, a unit's own (by its account)."""
    query = CodeChange.select(CodeChange, InsuranceCode).join(InsuranceCode)
    if account.sees_whole_city:
        return query
    if account.is_reviewer:
        return query.where(CodeChange.org.in_(account.org.subtree_ids()))
    return query.where(InsuranceCode.account == account.id)


def sees(account, change: CodeChange) -> bool:
    """Within the organisation scope (views.access), a unit sees only its own account's changes."""
    return account.sees_whole_city or account.is_reviewer or change.code.account_id == account.id


def search(query, status: str = "", name: str = "", code_no: str = "", kind: str = ""):
    """The queue's filters: 状态, 单位名称 (the code's, the new or the old name, contains), 参保编码
    (exact), 变更类型; waiting first, then newest."""
    if status in CHANGE_STATES:
        query = query.where(CodeChange.status == status)
    if kind in (GENERAL_CHANGE, NAME_CHANGE):
        query = query.where(CodeChange.kind == kind)
    if name:
        query = query.where(InsuranceCode.unit_name.contains(name) | CodeChange.unit_name.contains(name)
                            | CodeChange.old_unit_name.contains(name))
    if code_no:
        query = query.where(InsuranceCode.code == code_no.upper())
    waiting_first = pw.Case(None, [(CodeChange.status == CodeChange.WAITING, 0)], 1)
    return query.order_by(waiting_first, CodeChange.requested_at.desc(), CodeChange.id.desc())


def history_of(code: InsuranceCode) -> list:
    return list(CodeChange.select().where(CodeChange.code == code.id)
                .order_by(CodeChange.requested_at.desc(), CodeChange.id.desc()))


def log_of(change: CodeChange):
    """操作日志 of a change: a name change's own rows; for a general change, the code's 一般信息变更
    rows (each with its fields' old and new values)."""
    if change.kind == NAME_CHANGE:
        return AuditLog.for_object(change)
    return AuditLog.for_object(InsuranceCode.get_by_id(change.code_id)).where(AuditLog.action == GENERAL_CHANGE)


def waiting_of(code: InsuranceCode) -> CodeChange | None:
    return CodeChange.get_or_none((CodeChange.code == code.id) & (CodeChange.status == CodeChange.WAITING))


def files_of(change: CodeChange) -> list:
    return list(CodeFile.select().where(CodeFile.change == change.id).order_by(CodeFile.id))


def file_path(row: CodeFile):
    return stored_file(FILE_DIR, row.stored_name)

