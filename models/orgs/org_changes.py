"""组织管理's writes to organisations: 修改信息 (one's own), 新增下级组织, 修改, 移动, 撤销.

A district, the admin and the city-wide accounts act at once; a secondary or grassroots union
(`Account.needs_org_approval`) files its new and changed organisations — and its change of its own
组织名称 / 统一社会信用代码 / 工会编号 — for 组织审核 (models/orgs/org_requests.py) instead. Each
operation is one transaction with its audit row; a refused field raises FieldErrors named after
the form's field. They live beside organizations.py, not in it: they use the 组织审核 requests
and the accounts, which both build on Organization (in organizations.py: an import circle).
"""

from peewee import IntegrityError

from models import db, figures
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.orgs import enterprises, org_requests
from models.orgs.accounts import Account
from models.orgs.enterprises import FIX_MARKED
from models.orgs.organizations import (
    ACTIVE,
    DEFAULT_LEVEL,
    TOP_LEVELS,
    Organization,
)
from models.workflow import transition

LABELS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号", "address": "单位地址",
          "contact": "联系人", "phone": "联系电话", "type": "工会类型", "level": "层级"}
UNIQUE_FIELDS = {"name": "组织名称", "uscc": "统一社会信用代码", "union_no": "工会编号"}
TAKEN = "组织名称、统一社会信用代码或工会编号与其他组织重复，请核对"


def level_of(type_: str, chosen: str, org: Organization | None = None) -> str:
    """The level a 工会类型 gives (a 联合工会 the one chosen); a district or above keeps its own."""
    level = chosen if type_ == "联合工会" else DEFAULT_LEVEL.get(type_, "grassroots")
    if org is not None and level != org.level and org.level in TOP_LEVELS:
        return org.level
    return level


def check_unique(new: dict, org_id: int | None = None) -> None:
    """Refuse a 组织名称 / 统一社会信用代码 / 工会编号 another organisation has, or a request still
    waiting claims (the first one found, on its field)."""
    for name, label in UNIQUE_FIELDS.items():
        value = new.get(name)
        if not value:
            continue
        query = Organization.select().where(getattr(Organization, name) == value)
        if org_id is not None:
            query = query.where(Organization.id != org_id)
        clash = f"该{label}已被其他组织使用" if query.exists() else org_requests.pending_clash(**{name: value})
        if clash:
            raise FieldErrors(FIX_MARKED, {name: clash})


def _on_enterprise_fields(exc: FieldErrors) -> FieldErrors:
    return FieldErrors(exc.message, {f"enterprise_{name}": message for name, message in exc.errors.items()})


def first_enterprise(level: str, name: str, uscc: str) -> tuple:
    """新增下级组织's optional first 覆盖企业: () when left empty, else (名称, 统一社会信用代码) checked."""
    name, uscc = name or "", uscc or ""
    if not name and not uscc:
        return ()
    if level != "grassroots":
        raise FieldErrors(FIX_MARKED, {"enterprise_name": "只有基层工会覆盖企业：二级工会不填写覆盖企业"})
    try:
        return enterprises.check(0, name, uscc)
    except FieldErrors as exc:
        raise _on_enterprise_fields(exc) from None


# --- 新增下级组织 -----------------------------------------------------------------------------------
def add(parent: Organization, fields: dict, enterprise=("", ""), by=None) -> tuple:
    """新增下级组织 at once: the organisation, its audit row and its first 覆盖企业 together;
    (the organisation, the 覆盖企业's (名称, 统一社会信用代码) or ())."""
    first = first_enterprise(fields["level"], *enterprise)
    check_unique(fields)
    try:
        with db.atomic():
            child = Organization.add(parent, **fields)
            AuditLog.record("新建组织", child, to_state=ACTIVE, detail={"上级组织": parent.name}, account=by)
            if first:
                enterprises.add(child, *first, by)
    except IntegrityError:
        raise FieldErrors(FIX_MARKED, {"name": TAKEN}) from None
    except FieldErrors as exc:
        raise _on_enterprise_fields(exc) from None
    return child, first


def request_add(parent: Organization, fields: dict, enterprise=("", ""), by=None):
    """新增下级组织 filed for 组织审核 (the first 覆盖企业 travels in the request)."""
    first = first_enterprise(fields["level"], *enterprise)
    check_unique(fields)
    payload = dict(fields, **dict(zip(org_requests.ENTERPRISE_FIELDS, first, strict=True))) if first else fields
    return org_requests.file(org_requests.NEW, by, payload, f"「{by.org.name}」申请新建组织「{fields['name']}」",
                          parent=parent)


# --- 修改 / 修改信息 ---------------------------------------------------------------------------------
def edit(org: Organization, new: dict, by=None) -> dict:
    """修改 at once: the changes made ({label: [old, new]}, empty when nothing changed), audited."""
    changes = {LABELS[k]: [getattr(org, k), v] for k, v in new.items() if (getattr(org, k) or "") != (v or "")}
    if not changes:
        return {}
    check_unique(new, org.id)
    try:
        with db.atomic():
            Organization.update(updated_at=now(), **new).where(Organization.id == org.id).execute()
            AuditLog.record("修改组织信息", org, detail=changes, account=by)
            if "level" in new:  # a union becomes grassroots or stops being one
                figures.unions([org.id])
    except IntegrityError:
        raise FieldErrors(FIX_MARKED, {"name": TAKEN}) from None
    return changes


def request_edit(org: Organization, new: dict, by=None):
    """修改 of an organisation below, filed for 组织审核; None when nothing changed."""
    changed = {k: v for k, v in new.items() if (getattr(org, k) or None) != (v or None)}
    if not changed:
        return None
    check_unique(changed, org.id)
    return org_requests.file(org_requests.CHANGE, by, changed, f"「{by.org.name}」申请修改「{org.name}」的信息",
                          target=org)


def edit_own(org: Organization, new: dict, by) -> tuple:
    """修改信息 of the account's own organisation: (the changes saved, the 组织审核 request filed
    or None). Where the account needs approval, a change of 组织名称 / 统一社会信用代码 / 工会编号
    is filed (one request at a time) and the other fields are saved at once."""
    identity = {k: v for k, v in new.items() if k in org_requests.IDENTITY and (getattr(org, k) or None) != v}
    if not (identity and by.needs_org_approval):
        return edit(org, new, by), None
    if org_requests.waiting_change(org) is not None:
        raise FieldErrors(FIX_MARKED, {"name": "已有待审核的修改申请，请等待上级工会审核或先撤回"})
    check_unique(identity, org.id)
    with db.atomic():
        changes = edit(org, {k: v for k, v in new.items() if k not in org_requests.IDENTITY}, by)
        req = org_requests.file(org_requests.CHANGE, by, identity, f"「{org.name}」提交了修改信息申请", target=org)
    return changes, req


# --- 移动 / 撤销 ------------------------------------------------------------------------------------
def move(org: Organization, target_text: str, within: Organization, by=None) -> Organization:
    """移动 under the organisation of `within`'s subtree named `target_text` (名称, 统一社会信用代码
    or 工会编号), audited; the new parent. Refusals name the form's field `target`."""
    target = within.find_below(target_text)
    if target is None:
        raise FieldErrors(FIX_MARKED, {"target": f"未找到「{target_text}」，或它不在本单位管辖范围内"})
    old_parent = org.parent
    try:
        with db.atomic():
            org.move(target)
            AuditLog.record("移动组织", org, detail={"上级组织": [old_parent.name, target.name]}, account=by)
    except DomainError as exc:
        raise FieldErrors(exc.message, {"target": exc.message}) from None
    return target


def close(org: Organization, reason: str, by=None) -> None:
    """撤销: compare-and-set 正常 → 已撤销, its accounts disabled, audited — one transaction.
    Call only when close_blockers() is empty."""
    with db.atomic():
        transition(org, "close", account=by, reason=reason, updates={"closed_at": now(), "updated_at": now()},
                   stale="该组织的状态已被他人修改，请刷新页面后重试")
        # The accounts of a closed organisation stop with it (no 停用 row each: the 撤销 row says why).
        Account.update(is_active_flag=False).where(Account.org == org.id).execute()
        figures.unions([org.id])  # a closed union leaves the monitor's counters
