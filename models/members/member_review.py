"""会员审核 (new members and identity changes, decided by the superior) and 会员转移 / 会员转出审核
(transfer requests, filed by either union, decided by the source union or its superior): each
decision is one compare-and-set workflow step, audited, with its counter change and 消息提醒.

The queues and the batches (批量通过) that call these are in models/members/member_queues.py.
"""

import json
from datetime import date

import peewee as pw

from models import db, figures, messages
from models.audit import AuditLog
from models.base import DomainError, now, today
from models.members import counts
from models.members.members import activate, apply_identity, check_mobile_free, for_each, join, move
from models.members.people import (
    APPROVED,
    HELD,
    PENDING,
    RECORD_FIELDS,
    TRANSFER_IN,
    WAITING,
    WITHDRAWN,
    MemberChange,
    Membership,
    TransferRequest,
    next_member_numbers,
)
from models.orgs.organizations import ACTIVE, Organization
from models.rules.text import compact, mask, normalize
from models.workflow import transition


# --- 会员审核 -----------------------------------------------------------------------------------
def can_review(account, org_id: int) -> bool:
    """The superior (any ancestor) of the member's union, or the admin."""
    return account.is_admin or account.org.is_above(org_id)


def approve(m: Membership, account) -> Membership:
    """会员审核通过: 会员编号 generated (unique, safe under concurrency), counted."""
    if not can_review(account, m.org_id):
        raise DomainError("只有上级工会可以审核本单位的新会员", 403)
    return activate(m, account, "上级审核")


def reject(m: Membership, account, reason: str) -> None:
    """会员审核驳回: the pending membership is removed (the person stays for history); the
    union is told why."""
    if not can_review(account, m.org_id):
        raise DomainError("只有上级工会可以审核本单位的新会员", 403)
    if m.status != PENDING:
        raise DomainError(f"当前状态为「{m.status}」，不能执行「会员审核驳回」")
    if not (reason or "").strip():
        raise DomainError("「会员审核驳回」须填写原因", 422)
    if TransferRequest.select().where((TransferRequest.source == m.id)
                                      & (TransferRequest.status == WAITING)).exists():
        raise DomainError("该会员有待审核的转移申请，请先在“会员转出审核”中处理后再审核", 409)
    with db.atomic(), figures.people([m.person_id]):
        if Membership.delete().where((Membership.id == m.id) & (Membership.status == PENDING)).execute() != 1:
            raise DomainError("该记录的状态已被他人修改，请刷新页面后重试")
        AuditLog.record("会员审核驳回", m, from_state=PENDING, reason=reason, account=account,
                        detail={"姓名": m.person.name, "证件号码": mask(m.person.id_number)})
        messages.post(m.org_id, f"新会员「{m.person.name}」未通过会员审核", body=reason, kind="会员审核")


def decide_change(change_: MemberChange, action: str, account, reason: str = "") -> MemberChange:
    """会员审核 of an identity change: 通过 applies it, 驳回 keeps the old values."""
    if not can_review(account, change_.org_id):
        raise DomainError("只有上级工会可以审核本单位的信息修改", 403)
    with db.atomic():
        change_ = transition(change_, action, account=account, reason=reason,
                             updates={"decided_by": account.id, "decided_at": now(),
                                      "reason": reason})
        if action == "approve":
            apply_identity(change_.membership.person, _load(change_.payload))
        Membership.update(edit_status=change_.status, updated_at=now()).where(
            Membership.id == change_.membership_id).execute()
    return change_


def _load(payload: str) -> dict:
    data = json.loads(payload)
    if data.get("birth_date"):
        data["birth_date"] = date.fromisoformat(data["birth_date"])
    return data


# --- 转移 ---------------------------------------------------------------------------------------
def find_destination(text: str) -> Organization | None:
    """The destination union by exact name or 工会编号 (or 统一社会信用代码)."""
    name, code = normalize(text), compact(text).upper()
    if not name:
        return None
    return (Organization.select().where((Organization.name == name) | (Organization.union_no == code)
                                        | (Organization.uscc == code)).first())


def transfer_refusal(m: Membership, to_org: Organization) -> str | None:
    """Why `m` may not be transferred to `to_org` (None: it may), before the database is asked."""
    if to_org.status != ACTIVE:
        return f"「{to_org.name}」已撤销，不能转入"
    if to_org.level != "grassroots" and not to_org.is_temporary:
        return f"「{to_org.name}」不是基层工会，不能接收会员"
    if to_org.id == m.org_id:
        return "转入单位与会员所在工会相同"
    if m.status not in HELD:
        return f"用户状态为「{m.status}」的会员不能转移"
    return None


def request_transfer(m: Membership, to_org: Organization, account, reason: str = "",
                     job: int | None = None) -> TransferRequest:
    """File a transfer of `m` to `to_org`: the destination gets a 转入审核中 membership until the
    source union (or its superior) decides."""
    refused = transfer_refusal(m, to_org)
    if refused:
        raise DomainError(refused, 409)
    with db.atomic():
        check_mobile_free(to_org, m.mobile)
        try:
            with db.atomic():
                target = join(m.person, to_org, status=TRANSFER_IN, **{k: getattr(m, k) for k in RECORD_FIELDS})
        except pw.IntegrityError:
            raise DomainError(f"会员「{m.person.name}」已有待审核的转移申请", 409) from None
        request = TransferRequest.create(person=m.person_id, source=m.id, target=target.id,
                                         from_org=m.org_id, to_org=to_org.id,
                                         filed_by_org=account.org_id, filed_by=account.id,
                                         reason=reason[:200], job=job)
        AuditLog.record("申请会员转移", m, account=account,
                        detail={"转入单位": to_org.name, "原因": reason})
    return request


def request_transfers(memberships: list, to_org: Organization, account, reason: str = "") -> None:
    """转出 / 批量转出会员: one request per member, all or nothing."""
    for_each(memberships, request_transfer, to_org, account, reason)


def decide_transfer(request: TransferRequest, action: str, account, note: str = "") -> TransferRequest:
    """会员转出审核: approve (the member moves, keeps the 会员编号), reject (the pending
    membership goes), or withdraw (by the filer)."""
    if action == "withdraw":
        if not account.is_admin and account.org_id != request.filed_by_org_id:
            raise DomainError("只有提出申请的单位可以撤回", 403)
    elif not request.can_decide(account):
        raise DomainError("只有转出单位或其上级工会可以审核（申请单位不能审核自己的申请）", 403)
    with db.atomic():
        request = transition(request, action, account=account, reason=note,
                             updates={"decided_by": account.id, "decided_at": now(), "note": note})
        source, target = request.source, request.target
        if action == "approve":
            number = source.member_no
            move(source, "transfer_out", account=account, reason=note,
                 updates={"leave_date": today(), "leave_reason": "转出", "member_no": None,
                          "approved_at": None},  # the activation moves with the 会员编号
                 detail={"转入单位": request.to_org.name})
            move(target, "accept", account=account,
                 updates={"member_no": number or next_member_numbers(1)[0], "join_date": today(),
                          "approved_at": source.approved_at or now()},
                 detail={"转出单位": request.from_org.name})
        elif target is not None:
            before = counts.snapshot(target)
            with figures.people([target.person_id]):
                Membership.delete().where(Membership.id == target.id).execute()
            counts.apply_change(before, None)
        outcome = {"approve": APPROVED, "reject": "被驳回", "withdraw": WITHDRAWN}[action]
        body = f"{request.person.name}：{request.from_org.name} → {request.to_org.name}"
        if note:
            body += f"。审核说明：{note}"
        for org_id in {request.filed_by_org_id, request.to_org_id, request.from_org_id} - {account.org_id}:
            messages.post(org_id, f"会员转移申请{outcome}", body=body, kind="会员转出审核",
                          link=f"/members/transfers?status={request.status}")
    return request




# --- 会员审核设置 -------------------------------------------------------------------------------
SWITCH = {True: "开启", False: "关闭"}


def switch_review(district: Organization, wanted: bool, account) -> bool:
    """会员审核设置: the district switches 会员审核 on or off for every union under it (compare-and-set,
    audited). False when it is already so."""
    if wanted == district.member_review:
        return False
    with db.atomic():
        changed = (Organization.update(member_review=wanted)
                   .where((Organization.id == district.id) & (Organization.member_review == district.member_review))
                   .execute())
        if changed != 1:
            raise DomainError("会员审核设置已被他人修改，请刷新页面后重试")
        AuditLog.record("会员审核设置", district, from_state=SWITCH[district.member_review], to_state=SWITCH[wanted],
                        account=account)
    return True


def waiting_below(district: Organization) -> int:
    """New members of the district's unions waiting for 会员审核."""
    return Membership.select().where((Membership.status == PENDING)
                                     & Membership.org.in_(district.subtree_ids())).count()


def switch_log(district: Organization):
    return AuditLog.for_object(district).where(AuditLog.action == "会员审核设置").limit(20)
