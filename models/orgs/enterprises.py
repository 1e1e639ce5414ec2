"""覆盖企业: the enterprises a grassroots union covers (spec 10; issue 16 item 11).

A union's members of the class 关联企业类 are tied to one of its enterprises (the member import's
组织机构代码导入会员 finds them by the enterprise's 统一社会信用代码), so a new union needs a screen to
add them. The union itself and its superiors manage them; one enterprise is covered by one union
(the unique 统一社会信用代码). An enterprise still referenced by a member record cannot be removed.
Every change is audited on the union (its 操作日志 lists them).
"""

from peewee import IntegrityError

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.orgs.organizations import ENTERPRISE_CHECKS, Enterprise, Organization
from models.rules.text import compact, normalize
from models.rules.uscc import clean_uscc

NAME_MAX = 100
ONE_UNION = "（一个企业只能由一个工会覆盖）"


FIX_MARKED = "请修改标红的项目后再保存"


def covers_enterprises(org: Organization) -> bool:
    """Only an open grassroots union covers enterprises (a 联合工会 at grassroots level several)."""
    return org.level == "grassroots" and not org.is_closed


def check(org_id: int, name, uscc, exclude_id: int | None = None) -> tuple[str, str]:
    """(企业名称, 统一社会信用代码) for union `org_id`, cleaned, or FieldErrors naming the fields.
    A code another union covers is named as 其他工会 only (no other union's name leaks out)."""
    name, code, errors = normalize(name), compact(uscc or "").upper(), {}
    if not name:
        errors["name"] = "请填写企业名称"
    elif len(name) > NAME_MAX:
        errors["name"] = f"企业名称不能超过{NAME_MAX}个字"
    if not code:
        errors["uscc"] = "请填写统一社会信用代码"
    else:
        try:
            code = clean_uscc(code)
        except ValueError as exc:
            errors["uscc"] = str(exc)
    if "uscc" not in errors:
        holder = (Enterprise.select(Enterprise.org).where((Enterprise.uscc == code)
                                                          & (Enterprise.id != (exclude_id or 0))).first())
        if holder is not None:
            whose = "本工会" if holder.org_id == org_id else "其他工会"
            errors["uscc"] = f"该统一社会信用代码已是{whose}的覆盖企业{ONE_UNION}"
    if errors:
        raise FieldErrors(FIX_MARKED, errors)
    return name, code


def _unique_guard(action):
    """A race past `check`: the unique index refuses, with the same words."""
    try:
        with db.atomic():
            return action()
    except IntegrityError:
        raise FieldErrors(FIX_MARKED, {"uscc": f"该统一社会信用代码已是其他工会的覆盖企业{ONE_UNION}"}) from None


def add(org: Organization, name, uscc, account=None) -> Enterprise:
    if not covers_enterprises(org):
        raise DomainError("只有未撤销的基层工会可以添加覆盖企业", 409)
    name, code = check(org.id, name, uscc)

    def create():
        enterprise = Enterprise.create(org=org.id, name=name, uscc=code)
        AuditLog.record("新增覆盖企业", org, account=account, detail={"企业名称": name, "统一社会信用代码": code})
        return enterprise
    return _unique_guard(create)


def update(enterprise: Enterprise, name, uscc, account=None) -> dict:
    """修改: the changes made ({label: [old, new]}, empty when nothing changed)."""
    name, code = check(enterprise.org_id, name, uscc, exclude_id=enterprise.id)
    changes = {label: [old, new] for label, old, new in (("企业名称", enterprise.name, name),
                                                         ("统一社会信用代码", enterprise.uscc, code)) if old != new}
    if not changes:
        return {}

    def save():
        Enterprise.update(name=name, uscc=code).where(Enterprise.id == enterprise.id).execute()
        AuditLog.record("修改覆盖企业", enterprise.org, account=account, detail=changes)
        return changes
    return _unique_guard(save)


def blockers(enterprise: Enterprise) -> list[str]:
    """Why the enterprise cannot be removed: current member records (关联企业类; a member who left
    keeps the history) and the cards or card applications of those members still refer to it."""
    return [reason for check in ENTERPRISE_CHECKS for reason in check(enterprise)]


def remove(enterprise: Enterprise, account=None) -> None:
    reasons = blockers(enterprise)
    if reasons:
        raise DomainError("不能删除该覆盖企业：" + "；".join(reasons), 409)
    with db.atomic():
        Enterprise.delete().where(Enterprise.id == enterprise.id).execute()
        AuditLog.record("删除覆盖企业", enterprise.org, account=account,
                        detail={"企业名称": enterprise.name, "统一社会信用代码": enterprise.uscc})
