"""组织审核: a new or changed organisation submitted by a lower level waits for its superior.

A secondary union creating or changing an organisation below it, and a grassroots union changing
its own 组织名称 / 统一社会信用代码 / 工会编号, file an OrgRequest; the immediate parent or any
ancestor up to the district (and the admin) approves — which applies the change — or rejects
with a reason. The submitter may withdraw while it waits.
"""

import json

import peewee as pw
from peewee import IntegrityError

from models import db, figures, messages
from models.audit import AuditLog
from models.base import BaseModel, DomainError, FieldErrors, now
from models.orgs import enterprises
from models.orgs.accounts import Account
from models.orgs.organizations import ACTIVE, Organization
from models.workflow import Workflow, transition

PENDING, APPROVED, REJECTED, WITHDRAWN = "待审核", "已通过", "已驳回", "已撤回"
STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN)  # the tabs of 组织审核
NEW, CHANGE = "新建组织", "修改信息"
# Fields a request may carry, with their labels (the same as the 修改信息 form).
FIELDS = {"name": "组织名称", "type": "工会类型", "level": "层级", "uscc": "统一社会信用代码",
          "union_no": "工会编号", "address": "单位地址", "contact": "联系人", "phone": "联系电话",
          "enterprise_name": "覆盖企业名称", "enterprise_uscc": "覆盖企业统一社会信用代码"}
ENTERPRISE_FIELDS = ("enterprise_name", "enterprise_uscc")  # 新建组织: the new union's first 覆盖企业
IDENTITY = ("name", "uscc", "union_no")  # a grassroots union's change of these needs approval
PAGE = "/orgs/requests"  # 组织审核, the link of its 消息提醒


class OrgRequest(BaseModel):
    WORKFLOW = Workflow("status", {
        (PENDING, "approve"): APPROVED,
        (PENDING, "reject"): REJECTED,
        (PENDING, "withdraw"): WITHDRAWN,
    }, actions={"approve": "审核通过", "reject": "驳回", "withdraw": "撤回"},
        needs_reason=frozenset({"reject"}))
    scope_field = "submitter_org"

    kind = pw.CharField(max_length=10)  # 新建组织 / 修改信息
    status = pw.CharField(max_length=6, default=PENDING, index=True)
    submitter_org = pw.ForeignKeyField(Organization, on_delete="CASCADE", backref="org_requests")
    submitter = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    parent = pw.ForeignKeyField(Organization, null=True, on_delete="CASCADE")  # for 新建组织
    target = pw.ForeignKeyField(Organization, null=True, on_delete="CASCADE")  # changed / created
    payload = pw.TextField(default="{}")  # {field: new value}
    before = pw.TextField(default="{}")  # {field: old value} for 修改信息
    reason = pw.TextField(default="")  # 驳回原因
    created_at = pw.DateTimeField(default=now)
    decided_at = pw.DateTimeField(null=True)
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")

    @property
    def data(self) -> dict:
        return json.loads(self.payload or "{}")

    @property
    def old(self) -> dict:
        return json.loads(self.before or "{}")

    @property
    def name(self) -> str:
        return self.data.get("name") or (self.target.name if self.target_id else "")

    def changes(self) -> list:
        """[(label, old, new)] for display."""
        old = self.old
        return [(FIELDS.get(k, k), old.get(k, ""), v) for k, v in self.data.items()]

    def can_decide(self, account) -> bool:
        """The superior: a strict ancestor of the submitting organisation (or the admin); never
        the read-only 市总工会 account (spec 05)."""
        return account.is_admin or (not account.is_read_only and account.org.is_above(self.submitter_org_id))

    def awaits(self, account) -> bool:
        """Still waiting, and the account may decide it (审核, not only 查看)."""
        return self.status == PENDING and self.can_decide(account)


def pending_clash(name=None, uscc=None, union_no=None, exclude_request=None):
    """A waiting 新建 request already claims this name / code? (checked before filing)"""
    query = OrgRequest.select().where(OrgRequest.status == PENDING)
    if exclude_request is not None:
        query = query.where(OrgRequest.id != exclude_request)
    for req in query:
        data = req.data
        for key, value, label in (("name", name, "组织名称"), ("uscc", uscc, "统一社会信用代码"),
                                  ("union_no", union_no, "工会编号")):
            if value and data.get(key) == value and (req.target_id is None or key in data):
                return f"已有待审核的申请使用了该{label}"
    return None


def waiting_change(org: Organization):
    """The organisation's own 修改信息 request still waiting, or None."""
    return OrgRequest.select().where((OrgRequest.target == org.id) & (OrgRequest.status == PENDING)).first()


def submit(kind: str, account, payload: dict, parent=None, target=None) -> OrgRequest:
    with db.atomic():
        before = {k: getattr(target, k) for k in payload} if target is not None else {}
        req = OrgRequest.create(kind=kind, submitter_org=account.org_id, submitter=account.id,
                                parent=parent.id if parent else None,
                                target=target.id if target else None,
                                payload=json.dumps(payload, ensure_ascii=False),
                                before=json.dumps(before, ensure_ascii=False, default=str))
        AuditLog.record(f"提交{kind}申请", req, to_state=PENDING, account=account,
                        detail={"组织": payload.get("name") or (target.name if target else "")})
    return req


def file(kind: str, account, payload: dict, title: str, parent=None, target=None) -> OrgRequest:
    """Submit, and tell the submitting organisation's superior (消息提醒 `title`) — one transaction."""
    with db.atomic():
        req = submit(kind, account, payload, parent=parent, target=target)
        if account.org.parent_id:
            messages.post(account.org.parent_id, title, kind="组织审核", link=PAGE)
    return req


def decide(req: OrgRequest, action: str, account, reason: str = "") -> OrgRequest:
    """approve (applies the change) / reject / withdraw — through the workflow engine; the
    submitting organisation is told the outcome of a decision (消息提醒)."""
    if action in ("approve", "reject") and not req.can_decide(account):
        raise DomainError("只有上级工会才能审核该申请", 403)
    if action == "withdraw" and account.org_id != req.submitter_org_id and not account.is_admin:
        raise DomainError("只有提交申请的组织才能撤回", 403)
    try:
        with db.atomic():
            updates = {"decided_at": now(), "decided_by": account.id}
            if action == "reject":
                updates["reason"] = reason.strip()
            if action == "approve":
                target = _apply(req, account)
                updates["target"] = target.id
            req = transition(req, action, account=account, reason=reason, updates=updates)
    except IntegrityError:
        raise DomainError("组织名称、统一社会信用代码或工会编号已被其他组织使用，不能通过；请驳回并说明原因",
                          409) from None
    if action != "withdraw":
        outcome = "通过" if action == "approve" else "被驳回"
        messages.post(req.submitter_org_id, f"您的{req.kind}申请「{req.name}」已{outcome}",
                      body=reason, kind="组织审核", link=f"{PAGE}/{req.id}")
    return req


def _apply(req: OrgRequest, account) -> Organization:
    data = req.data
    if req.kind == NEW:
        parent = Organization.get_by_id(req.parent_id)
        if parent.is_closed:
            raise DomainError(f"上级组织「{parent.name}」已撤销，不能通过", 409)
        first = [data.pop(k, "") for k in ENTERPRISE_FIELDS]
        org = Organization.add(parent, **data)
        AuditLog.record("新建组织", org, to_state=ACTIVE, account=account,
                        detail={"申请编号": req.id})
        if any(first):
            try:
                enterprises.add(org, *first, account)
            except FieldErrors as exc:
                raise DomainError("覆盖企业：" + "；".join(exc.errors.values()), 409) from None
        return org
    org = Organization.get_by_id(req.target_id)
    Organization.update(updated_at=now(), **data).where(Organization.id == org.id).execute()
    if "level" in data:  # a union becomes grassroots or stops being one (the monitor's counters)
        figures.unions([org.id])
    AuditLog.record("修改组织信息", org, account=account,
                    detail={FIELDS.get(k, k): [req.old.get(k), v] for k, v in data.items()})
    return org
