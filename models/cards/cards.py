"""会员服务卡 (spec 30, spec 05 "Cards"): the card tables and 卡片信息管理 (办卡状态, 更正卡片状态).

- **Card**: one bank card of a person (卡号 unique, Luhn-checked), status 正常 / 挂失 / 注销,
  开卡日期, the batch it came from. A person holds at most one card that is not 注销 (a partial
  unique index). 已办会员卡 on the roster and the member's page is "holds a card that is not 注销",
  read from this table (`holders`, `progress_of`; no copy on the person since migration 039). A
  card makes its holder eligible for the member-card enrollment channel from `eligible_from` = the
  day after it became known here (the later of 开卡日期 and the import).
- **CardPending** (待办会员): a union's members queued for a card, each with its 信息校验结果
  (已通过 / 未通过 with the reasons / 未校验). A person is queued at most once city-wide.
- **CardBatch** (办卡批次) and its items (CardBatchItem: what was submitted; a person is in at most
  one batch still waiting for a card) are defined here beside Card;
  their workflows (提交办卡, 导出报送银行, 撤销办卡批次, 开卡失败) are in models/cards/card_batches.py.

The 待办会员列表 is models/cards/card_pending.py; the bank's return file (开卡回盘导入)
models/cards/card_return.py.

Only members inside enterprises apply here: 灵活就业 and 企业外入会 members apply individually
through the 申工社 WeChat account (seed 003 FAQ 6).
"""

from datetime import date, timedelta

import peewee as pw

from models import db, figures
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now
from models.members import roster
from models.members.people import CHANGED, FLEXIBLE, LEFT, NORMAL, OUTSIDE, Membership, Person, enterprise_members
from models.members.roster import id_candidates, name_matches, name_window, named, starts_with
from models.orgs.accounts import Account
from models.orgs.organizations import ENTERPRISE_CHECKS, Organization
from models.rules import cards as rules
from models.rules.text import mask
from models.workflow import Workflow

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
    TO_SEND, SENT, OPENED = TO_SEND, SENT, OPENED  # for templates: x.status == x.DONE

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
    NORMAL = CARD_NORMAL  # for templates (card.status == card.NORMAL)
    person = pw.ForeignKeyField(Person, backref="cards", on_delete="RESTRICT")
    # the union that applied; no index: nothing looks cards up by it (an organisation is never deleted
    # by the app — the RESTRICT check alone would want one), and 开卡回盘导入 writes 50,000 cards at once
    org = pw.ForeignKeyField(Organization, on_delete="RESTRICT", index=False)
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
    """One person of a batch. Its card (once 已开卡) is the card of the same person and batch
    (`card_batches.with_cards`): no column of its own, so that 开卡回盘导入's one UPDATE of the items changes
    `state` only and writes entries into as few indexes as possible (migration 039)."""
    scope_field = None  # reached through its batch
    # no index of its own: (batch, person) below leads with it
    batch = pw.ForeignKeyField(CardBatch, backref="items", on_delete="CASCADE", index=False)
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
    mobile = pw.CharField(max_length=11, default="")  # indexed among the waiting items only (below)
    work_unit = pw.CharField(max_length=100, default="")

    class Meta:
        indexes = ((("batch", "person"), True),)


# A person waits for a card in at most one batch.
CardBatchItem.add_index(CardBatchItem.index(CardBatchItem.person, unique=True,
                                            where=CardBatchItem.state == ITEM_WAITING,
                                            name="card_item_one_waiting_per_person"))
# The 待办会员 check looks for a mobile number among the waiting applicants only; an item leaving
# 待开卡 then writes no entry here.
CardBatchItem.add_index(CardBatchItem.index(CardBatchItem.mobile, where=CardBatchItem.state == ITEM_WAITING,
                                            name="card_item_waiting_mobile"))




# --- reading ----------------------------------------------------------------------------------
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


def holders(person_ids: list) -> set:
    """The ids among `person_ids` of the people holding a card that is not 注销 (已办会员卡 of the
    roster: one probe of "card_one_per_person" a person)."""
    if not person_ids:
        return set()
    return {r[0] for r in Card.select(Card.person).where(Card.person.in_(list(person_ids))
                                                         & Card.status.in_(HELD_CARD)).tuples()}


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


def card_list(members_in_scope, name: str = "", id_number: str = "", state: str = "", cap: int | None = None,
              root_id: int | None = None, common: bool | None = None):
    """卡片信息管理: the members (正常, inside enterprises) of `members_in_scope`, by 姓名 (starting
    with), 证件号码 and 办卡状态. `cap` (a district — `root_id` — or the city: views.paging.CAP), as on
    会员信息 (roster.Pages): a name that at most `cap` people of the city carry is read from the name
    index; a more common prefix holds the list to the first NAME_WINDOW + 1 matching members of the
    scope in name order (roster.name_window; the view says so) instead of walking it. `common`: that
    choice (common_name) when the caller made it already."""
    query = in_enterprise(members_in_scope.where(Membership.status == NORMAL))
    common = common_name(name, cap) if common is None else common
    if name and cap and not common:
        query = query.where(Membership.id.in_(named(name)))
        name = ""
    elif name and cap:
        def narrowing(q):
            q = in_enterprise(q.where(Membership.status == NORMAL))
            q = q.where(Person.id_number.in_(id_candidates(id_number))) if id_number else q
            return q.where(progress_condition(state)) if state else q
        window = [i for (i,) in name_window(root_id, name, narrowing, person=bool(id_number)).tuples()]
        query = query.where(Membership.id.in_(window or [0]))  # ≤ NAME_WINDOW + 1 ids, read once
        name = ""
    if id_number:  # the person table only for the number (the name is on the membership too)
        query = query.join(Person)
    if name:
        query = query.where(starts_with(Membership.person_name, name))
    if id_number:
        query = query.where(Person.id_number.in_(id_candidates(id_number)))
    if state:
        query = query.where(progress_condition(state))
    return query


def list_total(narrow, cap: int | None = None, window: bool = False) -> tuple[int, bool]:
    """(count, exact) of 卡片信息管理: exact within a union (cap None); over a district or the city
    at most cap + 1 rows are read ("总共超过 … 条记录"). `window`: the list is held to the name window
    (at most NAME_WINDOW + 1 rows): a full window stands for more than cap, as on 会员信息."""
    if cap is None:
        return narrow.count(), True
    if window:
        n = narrow.count()
        return (n, True) if n <= roster.NAME_WINDOW else (max(n, cap + 1), False)
    n = narrow.limit(cap + 1).count()
    return n, n <= cap


def common_name(name: str, cap: int | None) -> bool:
    """A district's or the city's 姓名搜索 for a prefix more than `cap` people carry: held to the
    name window (card_list)."""
    return bool(name and cap) and name_matches(name, cap) > cap


def with_people(ids) -> list:
    """The page's memberships (by union, newest first: roster.list_key) with person and union (ids: the
    page's sub-query)."""
    return list(Membership.select(Membership, Person, Organization).join(Person).switch(Membership)
                .join(Organization).where(Membership.id.in_(ids))
                .order_by(Membership.org.desc(), Membership.id.desc()))


# --- what a member's change means here ------------------------------------------------------------
def invalidate(membership_id: int | None = None, person_id: int | None = None) -> None:
    """The member record or the person changed: their 待办 row is 未校验 until checked again."""
    query = CardPending.update(check_state=rules.UNCHECKED, check_reason="", checked_at=None)
    if membership_id is not None:
        query.where(CardPending.membership == membership_id).execute()
    if person_id is not None:
        query.where(CardPending.person == person_id).execute()


def forget(membership_id: int) -> None:
    """The member left the union (转出 / 删除): no longer queued for a card here."""
    CardPending.delete().where(CardPending.membership == membership_id).execute()


def _enterprise_cards(enterprise) -> list[str]:
    tied = enterprise_members(enterprise)
    reasons = []
    held = (Card.select().join(Membership, on=(Membership.person == Card.person))
            .where(Membership.id.in_(tied) & Card.status.in_(HELD_CARD)).count())
    if held:
        reasons.append(f"关联该企业的会员中有{held}人持有会员服务卡")
    pending = CardPending.select().where(CardPending.membership.in_(tied)).count()
    if pending:
        reasons.append(f"关联该企业的会员中有{pending}人在待办会员列表中")
    return reasons


# The roster tells this area when a member leaves or a record changes; a 覆盖企业 is not removed
# while its members' cards or card applications refer to it.
for _hooks, _hook in ((LEFT, forget), (CHANGED, invalidate), (ENTERPRISE_CHECKS, _enterprise_cards)):
    if _hook not in _hooks:
        _hooks.append(_hook)


def set_card_status(card: Card, status: str, account, reason: str) -> Card:
    """Admin quick fix 更正卡片状态 (正常 / 挂失 / 注销), audited."""
    if status not in CARD_STATUSES:
        raise DomainError("请选择正确的卡片状态", 422)
    if not (reason or "").strip():
        raise DomainError("请填写更正原因", 422)
    if status == card.status:
        raise DomainError(f"卡片状态已是「{status}」", 409)
    with db.atomic(), figures.people([card.person_id], cards_only=True):
        try:
            with db.atomic():
                Card.update(status=status).where(Card.id == card.id).execute()
        except pw.IntegrityError:
            raise DomainError("该人员已有另一张正常或挂失的会员服务卡，不能恢复此卡", 409) from None
        AuditLog.record("更正卡片状态", card, from_state=card.status, to_state=status, reason=reason,
                        account=account, detail={"卡号": mask(card.card_no)})
    return Card.get_by_id(card.id)
