"""办卡批次管理 and 撤销办卡批次审核 (spec 30): 提交办卡 (the checked 待办会员列表 becomes a batch),
导出报送银行, 开卡失败, and the revoke request.

- **CardBatch** (办卡批次, table in models/cards/cards.py): 待报送 → 已报送银行 (the centre or
  district exports it for the bank; no revoke after) → 已开卡 (every person's card came back in a
  return file, or was marked 开卡失败); 待报送 → 已撤销 when the district approves a revoke request.
- **CardRevokeRequest** (撤销办卡批次): 待审核 → 已通过 / 已驳回 (reason required), decided by the
  district above the union; at most one waiting request per batch.
"""

import io
from datetime import date

import peewee as pw
from openpyxl import Workbook

from models import db, is_postgres, messages
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, today
from models.cards.card_pending import run_checks
from models.cards.cards import (
    ITEM_FAILED,
    ITEM_OPENED,
    ITEM_REVOKED,
    ITEM_WAITING,
    REVOKED,
    SENT,
    SUBMIT_REFUSED,
    TO_SEND,
    Card,
    CardBatch,
    CardBatchItem,
    CardPending,
)
from models.io.excel import export_row
from models.members.people import NORMAL, Counter, Membership, Person
from models.orgs.accounts import Account
from models.orgs.organizations import CLOSE_CHECKS, Organization
from models.rules import cards as rules
from models.workflow import Workflow, transition

PENDING_REVOKE, APPROVED, REJECTED = "待审核", "已通过", "已驳回"
REVOKE_STATUSES = [PENDING_REVOKE, APPROVED, REJECTED]


class CardRevokeRequest(BaseModel):
    WORKFLOW = Workflow("status", {
        (PENDING_REVOKE, "approve"): APPROVED,
        (PENDING_REVOKE, "reject"): REJECTED,
    }, actions={"approve": "撤销办卡批次审核通过", "reject": "撤销办卡批次审核驳回"},
        needs_reason=frozenset({"reject"}))
    PENDING = PENDING_REVOKE  # for templates: x.status == x.DONE

    batch = pw.ForeignKeyField(CardBatch, backref="revoke_requests", on_delete="CASCADE")
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")  # the requesting union
    reason = pw.TextField()  # 撤销原因
    status = pw.CharField(max_length=4, default=PENDING_REVOKE, index=True)
    note = pw.TextField(default="")  # 审核说明
    filed_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    decided_at = pw.DateTimeField(null=True)


CardRevokeRequest.add_index(CardRevokeRequest.index(
    CardRevokeRequest.batch, unique=True, where=CardRevokeRequest.status == PENDING_REVOKE,
    name="card_revoke_one_waiting_per_batch"))


# --- reading ----------------------------------------------------------------------------------
def batch_list(batches_in_scope, number: str = "", status: str = ""):
    """办卡批次管理: the batches of the scope with their union, newest first, by 批次编号 and 状态."""
    query = batches_in_scope.select(CardBatch, Organization).join(Organization).order_by(CardBatch.id.desc())
    if number:
        query = query.where(CardBatch.number == number)
    if status:
        query = query.where(CardBatch.status == status)
    return query


def waiting_revokes(batch_ids: list) -> set:
    """The ids among `batch_ids` of the batches with a revoke request waiting."""
    return {r[0] for r in CardRevokeRequest.select(CardRevokeRequest.batch).where(
        CardRevokeRequest.batch.in_(batch_ids or [0]) & (CardRevokeRequest.status == PENDING_REVOKE)).tuples()}


def batch_items(batch: CardBatch):
    """The batch's people in submission order (the detail page reads its page from it; `with_cards`
    then gives them their cards)."""
    return CardBatchItem.select().where(CardBatchItem.batch == batch.id).order_by(CardBatchItem.id)


def with_cards(batch: CardBatch, items: list) -> list:
    """Each item's card as `item.card` (or None): the card of the item's person from the item's batch —
    开卡回盘导入 makes one, for an item 待开卡 only, and a person is in a batch once. Read by person
    (a page's 50 probes of the person index), not joined: a batch just imported has tens of thousands
    of cards the planner may not know of yet."""
    cards = {}
    for card in Card.select().where(Card.person.in_([i.person_id for i in items])):
        if card.batch_id == batch.id and (card.person_id not in cards or card.id > cards[card.person_id].id):
            cards[card.person_id] = card
    for item in items:
        item.card = cards.get(item.person_id)
    return items


def opened_count(batch: CardBatch) -> int:
    return (CardBatchItem.select()
            .where((CardBatchItem.batch == batch.id) & (CardBatchItem.state == ITEM_OPENED)).count())


def revoke_requests(batch: CardBatch) -> list:
    return list(CardRevokeRequest.select().where(CardRevokeRequest.batch == batch.id)
                .order_by(CardRevokeRequest.id.desc()))


def revoke_list(requests_in_scope, status: str = ""):
    """撤销办卡批次审核: the scope's revoke requests with batch and union, newest first, by 审核状态."""
    query = (requests_in_scope.select(CardRevokeRequest, CardBatch, Organization)
             .join(CardBatch).switch(CardRevokeRequest)
             .join(Organization, on=(CardRevokeRequest.org == Organization.id))
             .order_by(CardRevokeRequest.id.desc()))
    return query.where(CardRevokeRequest.status == status) if status else query


# --- 提交办卡 -------------------------------------------------------------------------------------
def next_batch_number(on: date | None = None) -> str:
    """KB + yyyymmdd + a 4-digit sequence of the day (inside the caller's transaction)."""
    day = (on or today()).strftime("%Y%m%d")
    name = f"card_batch:{day}"
    with db.atomic():
        if not Counter.update(value=Counter.value + 1).where(Counter.name == name).execute():
            Counter.insert(name=name, value=0).on_conflict_ignore().execute()
            Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
        value = Counter.get_by_id(name).value
    return f"KB{day}{value:04d}"


def submit_batch(org: Organization, account) -> CardBatch:
    """提交办卡: every row of the 待办会员列表 (all 已通过, checked again now) becomes one batch."""
    rows = list(CardPending.select().where(CardPending.org == org.id).order_by(CardPending.id))
    if not rows:
        raise DomainError("待办会员列表中没有会员，请先加入待办会员", 422)
    if any(r.check_state != rules.PASSED for r in rows):
        raise DomainError(SUBMIT_REFUSED, 409)
    try:
        with db.atomic():
            batch = _submit(org, account, rows)
    except pw.IntegrityError:
        raise DomainError(SUBMITTED_BY_OTHER, 409) from None
    if batch is None:  # the checks just stored stay; nothing else changed
        raise DomainError(SUBMIT_REFUSED, 409)
    return batch


SUBMITTED_BY_OTHER = "待办会员列表已被他人提交，请刷新页面"


def _submit(org: Organization, account, rows: list) -> CardBatch | None:
    with db.atomic():
        run_checks(rows)  # the data may have changed since the last check
        rows = list(CardPending.select().where(CardPending.org == org.id).order_by(CardPending.id))
        if not rows:
            raise DomainError(SUBMITTED_BY_OTHER, 409)
        if any(r.check_state != rules.PASSED for r in rows):
            failed = True
        else:
            failed = False
            ms = {m.id: m for m in Membership.select(Membership, Person).join(Person)
                  .where(Membership.id.in_([r.membership_id for r in rows]))}
            batch = CardBatch.create(number=next_batch_number(), org=org.id, count=len(rows),
                                     submitted_by=account)
            for r in rows:
                m = ms[r.membership_id]
                p = m.person
                CardBatchItem.create(batch=batch, person=p.id, membership=m.id, name=p.name, id_type=p.id_type,
                                     id_number=p.id_number, gender=p.gender, birth_date=p.birth_date,
                                     id_expiry=p.id_expiry, mobile=m.mobile, work_unit=m.work_unit)
            deleted = CardPending.delete().where(CardPending.id.in_([r.id for r in rows])).execute()
            if deleted != len(rows):
                raise DomainError(SUBMITTED_BY_OTHER, 409)
            AuditLog.record("提交办卡", batch, to_state=TO_SEND, account=account,
                            detail={"批次编号": batch.number, "办卡人数": len(rows)})
            if org.district_id and org.district_id != org.id:
                messages.post(org.district_id, f"{org.name}提交了办卡批次 {batch.number}（{len(rows)}人），待报送银行",
                              link=f"/cards/batches/{batch.id}")
    return None if failed else batch


# --- 办卡批次: bank file ---------------------------------------------------------------------------
BANK_COLUMNS = ["批次编号", "序号", "姓名", "性别", "证件类型", "证件号码", "出生日期", "证件到期日", "移动电话",
                "工作单位/服务平台", "所在工会", "工会编号"]


def may_send(account, batch: CardBatch) -> bool:
    """The centre, or the district (industry) union above the batch's union, or the admin."""
    return account.acts_for_centre or (
        account.is_district_union and account.org.contains(batch.org_id))


def bank_workbook(batch: CardBatch) -> bytes:
    """导出报送银行: one row per person of the batch (export_row: 出生日期 and 证件到期日 date cells,
    长期 / - as text, numbers as text)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("办卡名单")
    sheet.append(BANK_COLUMNS)
    org = batch.org
    items = CardBatchItem.select().where((CardBatchItem.batch == batch.id)
                                         & (CardBatchItem.state != ITEM_REVOKED)).order_by(CardBatchItem.id)
    for n, i in enumerate(items, start=1):
        expiry = i.id_expiry if i.id_expiry and i.id_expiry != rules.LONG_TERM else rules.show_expiry(i.id_expiry)
        sheet.append(export_row(sheet, [batch.number, n, i.name, i.gender, i.id_type, i.id_number,
                                        i.birth_date or "", expiry, i.mobile, i.work_unit, org.name,
                                        org.union_no or ""]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _locked(batch: CardBatch) -> CardBatch:
    """The batch row locked for this transaction (PostgreSQL; SQLite transactions begin
    IMMEDIATE and are serialised anyway), so a revoke request and an export cannot cross."""
    query = CardBatch.select().where(CardBatch.id == batch.id)
    return (query.for_update() if is_postgres() else query).get()


def export_for_bank(batch: CardBatch, account) -> tuple[CardBatch, bytes]:
    """导出报送银行: the Excel for the bank; a 待报送 batch becomes 已报送银行 (no revoke after)."""
    if not may_send(account, batch):
        raise DomainError("只有市职保中心或该批次所属区局（产业）工会可以导出报送银行", 403)
    if batch.status == REVOKED:
        raise DomainError("该办卡批次已撤销，不能报送银行", 409)
    if batch.status == TO_SEND:
        with db.atomic():
            batch = _locked(batch)
            if CardRevokeRequest.select().where((CardRevokeRequest.batch == batch.id)
                                                & (CardRevokeRequest.status == PENDING_REVOKE)).exists():
                raise DomainError("该批次有待审核的撤销申请，请先完成撤销办卡批次审核", 409)
            batch = transition(batch, "export", account=account,
                               updates={"exported_at": now(), "exported_by": account.id})
    return batch, bank_workbook(batch)


# --- 撤销办卡批次 -----------------------------------------------------------------------------------
def request_revoke(batch: CardBatch, account, reason: str) -> CardRevokeRequest:
    reason = (reason or "").strip()
    if account.org_id != batch.org_id:
        raise DomainError("只有提交该批次的基层工会可以申请撤销", 403)
    if batch.status != TO_SEND:
        raise DomainError(f"批次状态为「{batch.status}」，只有待报送的批次可以申请撤销", 409)
    if not reason:
        raise DomainError("请填写撤销原因", 422)
    try:
        with db.atomic():
            if _locked(batch).status != TO_SEND:  # exported a moment ago
                raise DomainError("该批次已报送银行，不能再申请撤销", 409)
            req = CardRevokeRequest.create(batch=batch.id, org=batch.org_id, reason=reason[:500],
                                           filed_by=account.id)
            AuditLog.record("申请撤销办卡批次", req, to_state=PENDING_REVOKE, reason=reason, account=account,
                            detail={"批次编号": batch.number})
            district = batch.org.district_id
            if district and district != batch.org_id:
                messages.post(district, f"{batch.org.name}申请撤销办卡批次 {batch.number}，请审核",
                              link="/cards/revokes")
    except pw.IntegrityError:
        raise DomainError("该批次已有待审核的撤销申请", 409) from None
    return req


def may_decide_revoke(account, req: CardRevokeRequest) -> bool:
    return account.is_admin or (account.is_district_union and account.org.is_above(req.org_id))


def decide_revoke(req: CardRevokeRequest, action: str, account, note: str = "") -> CardRevokeRequest:
    """撤销办卡批次审核: 通过 → the batch is 已撤销 and its people return to the 待办会员列表
    (未校验); 驳回 (须填写审核说明) → the batch stays 待报送."""
    if not may_decide_revoke(account, req):
        raise DomainError("只有该工会所属的区局（产业）工会可以审核撤销办卡批次", 403)
    note = (note or "").strip()
    with db.atomic():
        req = transition(req, action, account=account, reason=note,
                         updates={"note": note, "decided_by": account.id, "decided_at": now()})
        batch = req.batch
        if action == "approve":
            batch = transition(batch, "revoke", account=account, reason=req.reason)
            _release(batch)
            text = f"办卡批次 {batch.number} 的撤销申请已通过，批次已撤销，人员已退回待办会员列表"
        else:
            text = f"办卡批次 {batch.number} 的撤销申请被驳回：{note}"
        messages.post(req.org_id, text, link=f"/cards/batches/{batch.id}", account=req.filed_by_id)
    return req


def _release(batch: CardBatch) -> None:
    items = list(CardBatchItem.select().where((CardBatchItem.batch == batch.id)
                                              & (CardBatchItem.state == ITEM_WAITING)))
    CardBatchItem.update(state=ITEM_REVOKED).where(CardBatchItem.id.in_([i.id for i in items])).execute()
    current = {m.person_id: m for m in Membership.select().where(
        Membership.person.in_([i.person_id for i in items]) & (Membership.status == NORMAL))}
    for i in items:
        m = current.get(i.person_id)
        if m is None or m.org_id != batch.org_id:
            continue  # left the union meanwhile
        CardPending.insert(org=batch.org_id, membership=m.id, person=i.person_id).on_conflict_ignore().execute()


def mark_unreturned(batch: CardBatch, item_ids: list, account, reason: str) -> int:
    """开卡失败: people the bank did not open a card for (the centre or district says so). They
    leave the batch (free to be queued again); the batch is 已开卡 once nobody waits any more."""
    reason = (reason or "").strip()
    if not may_send(account, batch):
        raise DomainError("只有市职保中心或该批次所属区局（产业）工会可以标记开卡失败", 403)
    if batch.status != SENT:
        raise DomainError(f"批次状态为「{batch.status}」，只有已报送银行的批次可以标记开卡失败", 409)
    if not reason:
        raise DomainError("请填写开卡失败的原因", 422)
    if not item_ids:
        raise DomainError("请勾选开卡失败的人员", 422)
    with db.atomic():
        batch = _locked(batch)
        changed = (CardBatchItem.update(state=ITEM_FAILED)
                   .where((CardBatchItem.batch == batch.id) & CardBatchItem.id.in_(item_ids)
                          & (CardBatchItem.state == ITEM_WAITING)).execute())
        if changed != len(set(item_ids)):
            raise DomainError("勾选的人员已开卡或不在该批次中，请刷新页面后重试", 409)
        AuditLog.record("开卡失败", batch, reason=reason, account=account, detail={"人数": changed})
        if not CardBatchItem.select().where((CardBatchItem.batch == batch.id)
                                            & (CardBatchItem.state == ITEM_WAITING)).exists():
            transition(batch, "open", account=account, updates={"opened_at": now()})
        messages.post(batch.org_id, f"办卡批次 {batch.number} 中有{changed}人开卡失败：{reason}",
                      body="这些会员可重新加入待办会员列表办理。", link=f"/cards/batches/{batch.id}")
    return changed


def open_batches_check(org: Organization) -> str | None:
    """Closing an organisation: not while it has card batches waiting for the bank."""
    n = CardBatch.select().where((CardBatch.org == org.id) & CardBatch.status.in_((TO_SEND, SENT))).count()
    return f"有{n}个办卡批次尚未开卡" if n else None


if open_batches_check not in CLOSE_CHECKS:
    CLOSE_CHECKS.append(open_batches_check)
