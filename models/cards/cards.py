"""会员服务卡 (spec 30, spec 05 "Cards"): cards, the 待办会员列表, card batches, the bank's return
file and the revoke request.

- **Card**: one bank card of a person (卡号 unique, Luhn-checked), status 正常 / 挂失 / 注销,
  开卡日期, the batch it came from. A person holds at most one card that is not 注销 (a partial
  unique index). `Person.has_card` (已办会员卡 on the roster) is kept equal to "holds a card that
  is not 注销". A card makes its holder eligible for the member-card enrollment channel from
  `eligible_from` = the day after it became known here (the later of 开卡日期 and the import).
- **CardPending** (待办会员): a union's members queued for a card, each with its 信息校验结果
  (已通过 / 未通过 with the reasons / 未校验). A person is queued at most once city-wide.
- **CardBatch** (办卡批次): 待报送 → 已报送银行 (the centre or district exports it for the bank;
  no revoke after) → 已开卡 (every person's card came back in a return file); 待报送 → 已撤销 when
  the district approves a revoke request. Items (CardBatchItem) hold what was submitted; a
  person is in at most one batch still waiting for a card (partial unique index).
- **CardRevokeRequest** (撤销办卡批次): 待审核 → 已通过 / 已驳回 (reason required), decided by the
  district above the union; at most one waiting request per batch.

The bank's return file (开卡回盘导入) lives in models/card_return.py.

Only members inside enterprises apply here: 灵活就业 and 企业外入会 members apply individually
through the 申工社 WeChat account (seed 003 FAQ 6).
"""

import io
from datetime import date, timedelta

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, today
from models.members.members import FLEXIBLE, NORMAL, OUTSIDE, Counter, Membership, Person
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules import cards as rules
from models.rules.text import mask
from models.workflow import Workflow, transition

CARD_NORMAL, CARD_LOST, CARD_CANCELLED = "正常", "挂失", "注销"
CARD_STATUSES = [CARD_NORMAL, CARD_LOST, CARD_CANCELLED]
HELD_CARD = (CARD_NORMAL, CARD_LOST)  # the person has a card (已办会员卡)
TO_SEND, SENT, OPENED, REVOKED = "待报送", "已报送银行", "已开卡", "已撤销"
BATCH_STATUSES = [TO_SEND, SENT, OPENED, REVOKED]
ITEM_WAITING, ITEM_OPENED, ITEM_REVOKED, ITEM_FAILED = "待开卡", "已开卡", "已撤销", "开卡失败"
INDIVIDUAL = (FLEXIBLE, OUTSIDE)  # apply through 申工社, not here
INDIVIDUAL_HINT = ("灵活就业类和企业外入会人员不在此办理：请至“申工社”微信公众号—>服务大厅—>申请办卡，"
                   "办卡成功后，可以申工社上提交个人参保。")
SUBMIT_REFUSED = "请移除校验未通过及未校验的会员，才能进行提交办卡"
# 办卡状态 of a member on 卡片信息管理
NO_CARD, QUEUED, IN_BATCH, HAS_CARD = "未办卡", "待办会员", "办卡中", "已开卡"
CARD_PROGRESS = [NO_CARD, QUEUED, IN_BATCH, HAS_CARD]


class CardBatch(BaseModel):
    WORKFLOW = Workflow("status", {
        (TO_SEND, "export"): SENT,
        (SENT, "open"): OPENED,
        (TO_SEND, "revoke"): REVOKED,
    }, actions={"export": "导出报送银行", "open": "开卡完成", "revoke": "撤销办卡批次"})

    number = pw.CharField(max_length=20, unique=True)  # 批次编号 KB + yyyymmdd + 4 digits
    org = pw.ForeignKeyField(Organization, backref="card_batches", on_delete="RESTRICT")
    status = pw.CharField(max_length=6, default=TO_SEND, index=True)
    count = pw.IntegerField(default=0)  # 办卡人数
    submitted_at = pw.DateTimeField(default=now)
    submitted_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    exported_at = pw.DateTimeField(null=True)
    exported_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    opened_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("org", "submitted_at"), False),)


class Card(BaseModel):
    person = pw.ForeignKeyField(Person, backref="cards", on_delete="RESTRICT")
    org = pw.ForeignKeyField(Organization, on_delete="RESTRICT")  # the union that applied
    batch = pw.ForeignKeyField(CardBatch, null=True, on_delete="SET NULL")
    card_no = pw.CharField(max_length=19, unique=True)  # 卡号
    status = pw.CharField(max_length=4, default=CARD_NORMAL)  # 卡片状态
    issued_date = pw.DateField()  # 开卡日期 (bank)
    eligible_from = pw.DateField()  # member-card enrollment channel from this day
    created_at = pw.DateTimeField(default=now)

    @property
    def known_on(self) -> date:
        """The day the card became known here: the later of 开卡日期 and its import."""
        return self.eligible_from - timedelta(days=1)


# A person holds at most one card that is not cancelled.
Card.add_index(Card.index(Card.person, unique=True, where=Card.status.in_(HELD_CARD),
                          name="card_one_per_person"))


class CardPending(BaseModel):
    """A member on the union's 待办会员列表."""
    org = pw.ForeignKeyField(Organization, on_delete="CASCADE", index=False)
    membership = pw.ForeignKeyField(Membership, unique=True, on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, unique=True, on_delete="CASCADE")  # once city-wide
    added_at = pw.DateTimeField(default=now)  # 加入待办时间
    added_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    check_state = pw.CharField(max_length=4, default=rules.UNCHECKED)  # 信息校验结果
    check_reason = pw.TextField(default="")
    checked_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("org", "check_state"), False),)

    @property
    def reasons(self) -> list:
        return [r for r in self.check_reason.split("\n") if r]


class CardBatchItem(BaseModel):
    scope_field = None  # reached through its batch
    batch = pw.ForeignKeyField(CardBatch, backref="items", on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, on_delete="RESTRICT")
    membership = pw.ForeignKeyField(Membership, null=True, on_delete="SET NULL")
    state = pw.CharField(max_length=4, default=ITEM_WAITING)  # 待开卡 / 已开卡 / 已撤销
    # What was submitted (the bank file is built from it, whatever changes later).
    name = pw.CharField(max_length=50)
    id_type = pw.CharField(max_length=20)
    id_number = pw.CharField(max_length=32, index=True)  # the return file finds people by it
    gender = pw.CharField(max_length=2, default="")
    birth_date = pw.DateField(null=True)
    id_expiry = pw.DateField(null=True)
    mobile = pw.CharField(max_length=11, default="", index=True)
    work_unit = pw.CharField(max_length=100, default="")
    card = pw.ForeignKeyField(Card, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("batch", "person"), True),)


# A person waits for a card in at most one batch.
CardBatchItem.add_index(CardBatchItem.index(CardBatchItem.person, unique=True,
                                            where=CardBatchItem.state == ITEM_WAITING,
                                            name="card_item_one_waiting_per_person"))

PENDING_REVOKE, APPROVED, REJECTED = "待审核", "已通过", "已驳回"


class CardRevokeRequest(BaseModel):
    WORKFLOW = Workflow("status", {
        (PENDING_REVOKE, "approve"): APPROVED,
        (PENDING_REVOKE, "reject"): REJECTED,
    }, actions={"approve": "撤销办卡批次审核通过", "reject": "撤销办卡批次审核驳回"},
        needs_reason=frozenset({"reject"}))

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
def held_card(person_id: int) -> Card | None:
    return Card.get_or_none((Card.person == person_id) & Card.status.in_(HELD_CARD))


def channel_card(on: date):
    """SQL on Card: a card that makes its holder eligible for the member-card enrollment channel on
    `on` — 正常 and known since before that day (spec 30: from the day after the later of 开卡日期
    and its import). The one rule of the 集中 screen, the instant screens, their submits, the
    monitor's 可参保 and the member detail."""
    return (Card.status == CARD_NORMAL) & (Card.eligible_from <= on)


def card_channel_people(on: date) -> pw.ModelSelect:
    """Sub-query of the person ids in the member-card channel on `on`. The one rule that splits the two
    channels (spec 50 "a person is in exactly one channel"): a holder of a card that counts
    (`channel_card`) is in the member-card channel; everyone else with ID type 身份证 is in the
    social-security channel — a card opened or imported today leaves its holder there until tomorrow,
    and a 挂失 card does not take him out, so no member is ever in neither. The social-security screen,
    the monitor's 可参保 and the member-card screens all read it."""
    return Card.select(Card.person).where(channel_card(on))


def card_channel_eligible(person_id: int, on: date) -> bool:
    """The member-card enrollment channel: a card that is 正常 and known since before `on`."""
    return Card.select().where((Card.person == person_id) & channel_card(on)).exists()


def in_enterprise(query):
    """Only members inside enterprises (not 灵活就业 / 企业外入会)."""
    return query.where(Membership.category.not_in(INDIVIDUAL))


def _waiting_item_persons():
    return CardBatchItem.select(CardBatchItem.person).where(CardBatchItem.state == ITEM_WAITING)


def progress_condition(state: str):
    """SQL for one 办卡状态 of a member row, on Membership's own columns (correlated EXISTS on the
    card's person index, IN on the small pending / waiting sets) so that a union's roster is
    filtered without touching the million-row person table."""
    held = pw.fn.EXISTS(Card.select(Card.id).where((Card.person == Membership.person)
                                                   & Card.status.in_(HELD_CARD)))
    queued = Membership.id.in_(CardPending.select(CardPending.membership))
    waiting = Membership.person.in_(_waiting_item_persons())
    if state == HAS_CARD:
        return held
    if state == QUEUED:
        return queued
    if state == IN_BATCH:
        return waiting
    return ~held & ~queued & ~waiting


def progress_of(memberships: list) -> dict:
    """{membership id: (办卡状态, Card or None, batch number or "")} for a page of rows."""
    person_ids = [m.person_id for m in memberships]
    cards, cancelled = {}, {}  # the held card; else the latest cancelled one
    for c in Card.select().where(Card.person.in_(person_ids)).order_by(Card.id):
        (cards if c.status in HELD_CARD else cancelled)[c.person_id] = c
    queued = {r[0] for r in CardPending.select(CardPending.membership)
              .where(CardPending.membership.in_([m.id for m in memberships])).tuples()}
    waiting = dict(CardBatchItem.select(CardBatchItem.person, CardBatch.number).join(CardBatch)
                   .where(CardBatchItem.person.in_(person_ids) & (CardBatchItem.state == ITEM_WAITING)).tuples())
    out = {}
    for m in memberships:
        if m.person_id in cards:
            out[m.id] = (HAS_CARD, cards[m.person_id], "")
        elif m.id in queued:
            out[m.id] = (QUEUED, None, "")
        elif m.person_id in waiting:
            out[m.id] = (IN_BATCH, None, waiting[m.person_id])
        else:
            out[m.id] = (NO_CARD, cancelled.get(m.person_id), "")
    return out


def pending_counts(org_id: int) -> dict:
    """{已通过: X, 未通过: Y, 未校验: Z, 全部: N} of the union's 待办会员列表."""
    counts = dict.fromkeys(rules.CHECK_STATES, 0)
    for state, n in (CardPending.select(CardPending.check_state, pw.fn.COUNT(CardPending.id))
                     .where(CardPending.org == org_id).group_by(CardPending.check_state).tuples()):
        counts[state] = n
    counts["全部"] = sum(counts[s] for s in rules.CHECK_STATES)
    return counts


# --- 待办会员列表 ---------------------------------------------------------------------------------
def _applicant(m: Membership, p: Person) -> rules.Applicant:
    return rules.Applicant(name=p.name, id_type=p.id_type, id_number=p.id_number, birth_date=p.birth_date,
                           id_expiry=p.id_expiry, work_unit=m.work_unit, mobile=m.mobile,
                           member_status=m.status)


def _mobile_holders(mobiles: set, person_ids: set) -> dict:
    """{mobile: [(person id, name)]} of the queued and waiting applicants city-wide using one of
    `mobiles`."""
    mobiles = [x for x in mobiles if x]
    holders: dict = {}
    if not mobiles:
        return holders
    queued = (CardPending.select(Membership.mobile, Person.id, Person.name, CardPending.org)
              .join(Membership, on=(CardPending.membership == Membership.id))
              .switch(CardPending).join(Person, on=(CardPending.person == Person.id))
              .where(Membership.mobile.in_(mobiles)).tuples())
    waiting = (CardBatchItem.select(CardBatchItem.mobile, CardBatchItem.person, CardBatchItem.name, CardBatch.org)
               .join(CardBatch).where(CardBatchItem.mobile.in_(mobiles) & (CardBatchItem.state == ITEM_WAITING))
               .tuples())
    for mobile, pid, name, org_id in list(queued) + list(waiting):
        holders.setdefault(mobile, []).append((pid, name, org_id))
    return holders


def run_checks(rows: list, on: date | None = None) -> None:
    """Check CardPending rows and store 已通过 / 未通过 with the reasons."""
    on = on or today()
    if not rows:
        return
    ms = {m.id: m for m in Membership.select(Membership, Person).join(Person)
          .where(Membership.id.in_([r.membership_id for r in rows]))}
    holders = _mobile_holders({m.mobile for m in ms.values()}, {m.person_id for m in ms.values()})
    stamp = now()
    with db.atomic():
        for row in rows:
            m = ms[row.membership_id]
            others = [f"本单位办卡会员（{name}）" if org_id == m.org_id else "其他工会的办卡人员"
                      for pid, name, org_id in holders.get(m.mobile, []) if pid != m.person_id]
            reasons = rules.check_application(_applicant(m, m.person), on, others[0] if others else None)
            state = rules.FAILED if reasons else rules.PASSED
            CardPending.update(check_state=state, check_reason="\n".join(reasons), checked_at=stamp) \
                .where(CardPending.id == row.id).execute()


def add_pending(org: Organization, account, memberships: list) -> tuple[int, list]:
    """加入待办会员列表: returns (number added, [(name, why not)] of the members left out)."""
    skipped, added = [], []
    if not memberships:
        raise DomainError("请先勾选要加入待办会员列表的会员", 422)
    progress = progress_of(memberships)
    with db.atomic():
        for m in memberships:
            why = None
            if m.org_id != org.id:
                why = "不是本工会的会员"
            elif m.status != NORMAL:
                why = f"用户状态为「{m.status}」，只有正常会员可以办卡"
            elif m.category in INDIVIDUAL:
                why = f"{m.category}会员请通过“申工社”个人办卡"
            elif progress[m.id][0] != NO_CARD:
                state, card, number = progress[m.id]
                why = {HAS_CARD: "已办会员卡", QUEUED: "已在待办会员列表中",
                       IN_BATCH: f"已在办卡批次 {number} 中等待开卡"}[state]
            if why:
                skipped.append((m.person.name, why))
                continue
            try:
                with db.atomic():
                    row = CardPending.create(org=org.id, membership=m.id, person=m.person_id, added_by=account)
            except pw.IntegrityError:
                skipped.append((m.person.name, "已在其他工会的待办会员列表中"))
                continue
            added.append(row)
        run_checks(added)
        if added:
            names = {m.id: m.person.name for m in memberships}
            AuditLog.record("加入待办会员列表", org, account=account,
                            detail={"人数": len(added), "会员": "、".join(names[r.membership_id] for r in added[:20])})
    return len(added), skipped


def remove_pending(row: CardPending, account) -> None:
    with db.atomic():
        name = row.person.name
        if CardPending.delete().where(CardPending.id == row.id).execute() != 1:
            raise DomainError("该会员已不在待办会员列表中，请刷新页面", 409)
        AuditLog.record("移除待办会员", row.membership, account=account, detail={"姓名": name})


def change_expiry(row: CardPending, account, raw) -> CardPending:
    """修改证件到期日: the person's ID expiry, then the row is checked again."""
    try:
        expiry = rules.parse_expiry(raw)
    except ValueError as exc:
        raise DomainError(str(exc), 422) from None
    person = row.person
    with db.atomic():
        old = person.id_expiry
        Person.update(id_expiry=expiry).where(Person.id == person.id).execute()
        AuditLog.record("修改证件到期日", row.membership, account=account,
                        detail={"证件到期日": [rules.show_expiry(old), rules.show_expiry(expiry)]})
        run_checks([row])
    return CardPending.get_by_id(row.id)


def invalidate(membership_id: int | None = None, person_id: int | None = None) -> None:
    """The member record or the person changed: their 待办 row is 未校验 until checked again."""
    query = CardPending.update(check_state=rules.UNCHECKED, check_reason="", checked_at=None)
    if membership_id is not None:
        query.where(CardPending.membership == membership_id).execute()
    if person_id is not None:
        query.where(CardPending.person == person_id).execute()


def check_all(org: Organization) -> int:
    rows = list(CardPending.select().where(CardPending.org == org.id))
    run_checks(rows)
    return len(rows)


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
    from models import messages
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
    return account.is_admin or account.role == "centre" or (
        account.role == "district" and account.org.contains(batch.org_id))


def bank_workbook(batch: CardBatch) -> bytes:
    """导出报送银行: one row per person of the batch (export_row: 出生日期 and 证件到期日 date cells,
    长期 / - as text, numbers as text)."""
    from openpyxl import Workbook

    from models.io.excel import export_row
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
    from models import is_postgres
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
    from models import messages
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
    return account.is_admin or (account.role == "district" and account.org.is_above(req.org_id))


def decide_revoke(req: CardRevokeRequest, action: str, account, note: str = "") -> CardRevokeRequest:
    """撤销办卡批次审核: 通过 → the batch is 已撤销 and its people return to the 待办会员列表
    (未校验); 驳回 (须填写审核说明) → the batch stays 待报送."""
    from models import messages
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
    from models import messages
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


def set_card_status(card: Card, status: str, account, reason: str) -> Card:
    """Admin quick fix 更正卡片状态 (正常 / 挂失 / 注销), audited."""
    if status not in CARD_STATUSES:
        raise DomainError("请选择正确的卡片状态", 422)
    if not (reason or "").strip():
        raise DomainError("请填写更正原因", 422)
    if status == card.status:
        raise DomainError(f"卡片状态已是「{status}」", 409)
    with db.atomic():
        try:
            with db.atomic():
                Card.update(status=status).where(Card.id == card.id).execute()
        except pw.IntegrityError:
            raise DomainError("该人员已有另一张正常或挂失的会员服务卡，不能恢复此卡", 409) from None
        has = Card.select().where((Card.person == card.person_id) & Card.status.in_(HELD_CARD)).exists()
        Person.update(has_card=has).where(Person.id == card.person_id).execute()
        AuditLog.record("更正卡片状态", card, from_state=card.status, to_state=status, reason=reason,
                        account=account, detail={"卡号": mask(card.card_no)})
    return Card.get_by_id(card.id)


def open_batches_check(org: Organization) -> str | None:
    """Closing an organisation: not while it has card batches waiting for the bank."""
    n = CardBatch.select().where((CardBatch.org == org.id) & CardBatch.status.in_((TO_SEND, SENT))).count()
    return f"有{n}个办卡批次尚未开卡" if n else None


def _register_close_check():
    from models.orgs.organizations import CLOSE_CHECKS
    if open_batches_check not in CLOSE_CHECKS:
        CLOSE_CHECKS.append(open_batches_check)


_register_close_check()
