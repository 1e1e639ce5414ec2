"""The queues of 会员审核 (new members and identity changes waiting for the superior) and
会员转出审核 (transfer requests), and the decisions taken from them.

Deciding one row goes through models/members/member_review.py (approve / reject / decide_change /
decide_transfer: scope of the decider, compare-and-set, audit); this module adds the queue
queries, the 消息提醒 the grassroots union gets for each decision, and the all-or-nothing
batches (批量通过).
"""

from dataclasses import dataclass, field
from datetime import datetime

import peewee as pw

from models import db, messages
from models.base import DomainError
from models.members import member_review
from models.members.people import (
    LABELS,
    PENDING,
    TRANSFER_STATUSES,
    WAITING,
    MemberChange,
    Membership,
    Person,
    TransferRequest,
    next_member_numbers,
)
from models.orgs.organizations import Organization, OrgTree

NEW_MEMBER, IDENTITY_CHANGE = "新增会员", "信息修改"  # 申请类型
KINDS = {"member": NEW_MEMBER, "change": IDENTITY_CHANGE}
# 方向 of the 会员转出审核 list
DIRECTIONS = {"review": "待我审核", "in": "转入本单位", "out": "转出本单位"}


# --- 会员审核 -----------------------------------------------------------------------------------
def reviewable_org_ids(account):
    """Sub-query of the unions whose members the account decides (every organisation strictly
    below its own, as member_review.can_review says), or None for the admin (all of them)."""
    if account.is_admin:
        return None
    return OrgTree.select(OrgTree.descendant).where((OrgTree.ancestor == account.org_id)
                                                    & (OrgTree.depth > 0))


def approval_queue(account, kind: str = ""):
    """(kind, id, submitted_at) of the new members (待审核) and identity changes (待审核) the
    account may decide, oldest first — one query to page and count."""
    org_ids = reviewable_org_ids(account)
    new = (Membership.select(pw.Value("member").alias("kind"), Membership.id.alias("id"),
                             Membership.created_at.alias("at"))
           .where(Membership.status == PENDING))
    changed = (MemberChange.select(pw.Value("change").alias("kind"), MemberChange.id.alias("id"),
                                   MemberChange.created_at.alias("at"))
               .where(MemberChange.status == WAITING))
    if org_ids is not None:
        new = new.where(Membership.org.in_(org_ids))
        changed = changed.where(MemberChange.org.in_(org_ids))
    query = {"member": new, "change": changed}.get(kind) or (new + changed)  # UNION ALL
    return query.order_by(pw.SQL('"at"'), pw.SQL('"kind"'), pw.SQL('"id"')).tuples()


@dataclass
class ApprovalRow:
    kind: str  # member / change
    id: int
    membership: Membership
    submitted_at: datetime
    change: MemberChange | None = None
    diffs: list = field(default_factory=list)  # [(field, label, old, new)] of an identity change

    @property
    def label(self) -> str:
        return KINDS[self.kind]


def approval_rows(items) -> list:
    """The page's (kind, id, at) tuples → ApprovalRow with member, person and union (3 queries)."""
    member_ids = [i for kind, i, _ in items if kind == "member"]
    change_ids = [i for kind, i, _ in items if kind == "change"]
    pending = {}
    if member_ids:
        pending = {m.id: m for m in Membership.select(Membership, Person, Organization)
                   .join(Person).switch(Membership).join(Organization)
                   .where(Membership.id.in_(member_ids))}
    changes = {}
    if change_ids:
        changes = {c.id: c for c in MemberChange.select(MemberChange, Membership, Person, Organization)
                   .join(Membership).join(Person).switch(Membership).join(Organization)
                   .where(MemberChange.id.in_(change_ids))}
    rows = []
    for kind, object_id, _at in items:
        if kind == "member" and object_id in pending:
            m = pending[object_id]
            rows.append(ApprovalRow(kind, m.id, m, m.created_at))
        elif kind == "change" and object_id in changes:
            c = changes[object_id]
            old, new = c.old, c.data
            diffs = [(k, LABELS.get(k, k), old.get(k, ""), new[k]) for k in new]
            rows.append(ApprovalRow(kind, c.id, c.membership, c.created_at, change=c, diffs=diffs))
    return rows


def decide_member(m: Membership, action: str, account, reason: str = "") -> Membership | None:
    """会员审核 of a new member: 通过 issues the 会员编号 and tells the union; 驳回 (with a reason)
    removes the pending membership (member_review.reject tells the union itself)."""
    if action == "reject":
        member_review.reject(m, account, reason)
        return None
    with db.atomic():
        m = member_review.approve(m, account)
        _approved_message(m)
    return m


def decide_change(change: MemberChange, action: str, account, reason: str = "") -> MemberChange:
    """会员审核 of an identity change, with the 消息提醒 to the member's union."""
    with db.atomic():
        change = member_review.decide_change(change, action, account, reason)
        name = (Person.select(Person.name).join(Membership)
                .where(Membership.id == change.membership_id).scalar())  # as it is now
        if action == "approve":
            messages.post(change.org_id, f"会员「{name}」的信息修改已通过审核", kind="会员审核")
        else:
            messages.post(change.org_id, f"会员「{name}」的信息修改未通过审核，已保留原信息",
                          body=f"驳回原因：{reason}", kind="会员审核")
    return change


def _approved_message(m: Membership) -> None:
    messages.post(m.org_id, f"新会员「{m.person.name}」已通过会员审核",
                  body=f"会员编号：{m.member_no}", kind="会员审核")


def approve_many(account, pending: list, changes: list) -> int:
    """批量通过: every ticked new member and identity change, all or nothing. The member
    numbers are reserved first, in one step (consecutive for the batch)."""
    for m in pending:
        if not member_review.can_review(account, m.org_id):
            raise DomainError(f"「{m.person.name}」不是下级工会的新会员，不能由本单位审核", 403)
    with db.atomic():
        numbers = next_member_numbers(len(pending)) if pending else []
        for m, number in zip(pending, numbers, strict=True):
            m.member_no = number  # approve() issues the number it finds reserved on the row
            try:
                approved = member_review.approve(m, account)
            except DomainError as exc:
                raise DomainError(f"「{m.person.name}」：{exc.message}；本次批量审核未执行", exc.status) from None
            _approved_message(approved)
        for change in changes:
            try:
                decide_change(change, "approve", account)
            except DomainError as exc:
                raise DomainError(f"「{change.membership.person.name}」：{exc.message}；本次批量审核未执行",
                                  exc.status) from None
    return len(pending) + len(changes)


# --- 会员转出审核 -------------------------------------------------------------------------------
def transfer_list(query, account, direction: str = "", status: str = ""):
    """The account's transfer requests (`query`: already limited to its scope), filtered by 审核状态
    and 方向, newest first, with person and the three organisations joined."""
    source, target, filer = Organization.alias(), Organization.alias(), Organization.alias()
    query = (query.select(TransferRequest, Person, source, target, filer)
             .join(Person).switch(TransferRequest)
             .join(source, on=(TransferRequest.from_org == source.id)).switch(TransferRequest)
             .join(target, on=(TransferRequest.to_org == target.id)).switch(TransferRequest)
             .join(filer, on=(TransferRequest.filed_by_org == filer.id)))
    if status in TRANSFER_STATUSES:
        query = query.where(TransferRequest.status == status)
    own = account.org.subtree_ids()
    if direction == "review":  # what the account decides: source side, never its own filing
        if not account.is_admin:
            query = query.where(TransferRequest.from_org.in_(own)
                                & (TransferRequest.filed_by_org != account.org_id))
    elif direction == "in":
        query = query.where(TransferRequest.to_org.in_(own))
    elif direction == "out":
        query = query.where(TransferRequest.from_org.in_(own))
    return query.order_by(TransferRequest.created_at.desc(), TransferRequest.id.desc())


def decidable(account, requests: list) -> set:
    """Ids of those `requests` the account may decide now (TransferRequest.can_decide for a
    whole page in one query)."""
    waiting = [r for r in requests if r.status == WAITING]
    if account.is_admin:
        return {r.id for r in waiting}
    waiting = [r for r in waiting if r.filed_by_org_id != account.org_id]
    if not waiting:
        return set()
    below = {d for (d,) in OrgTree.select(OrgTree.descendant).where(
        (OrgTree.ancestor == account.org_id) & OrgTree.descendant.in_([r.from_org_id for r in waiting])).tuples()}
    return {r.id for r in waiting if r.from_org_id in below}


def can_withdraw(request: TransferRequest, account) -> bool:
    return request.status == WAITING and (account.is_admin or account.org_id == request.filed_by_org_id)


def approve_transfers(account, requests: list) -> int:
    """批量通过 of ticked transfer requests, all or nothing."""
    for r in requests:
        if not r.can_decide(account):
            raise DomainError(f"「{r.person.name}」的转移申请不能由本单位审核（只有转出单位或其上级工会可以审核，"
                              "申请单位不能审核自己的申请）", 403)
    with db.atomic():
        for r in requests:
            try:
                member_review.decide_transfer(r, "approve", account)
            except DomainError as exc:
                raise DomainError(f"「{r.person.name}」：{exc.message}；本次批量审核未执行", exc.status) from None
    return len(requests)
