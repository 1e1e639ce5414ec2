"""会员卡参保 — the member-card channel's screens computed for one union (spec 50, issue 7).

`central_screen(org, year)` gives what 参保确认画面-集中参保办理 shows: the counts (会员总人数,
有卡总会员数, 集中参保已提交人数, 未办卡人数, 退休人数, 死亡人数, 待确认人数), who can be enrolled
(可参保人数) and who of them reaches statutory retirement age before 1 Jan (flagged, excludable in
one click), and the per-person fee parts of the chosen type. Each count is a set of person ids, so
the screen's numbers and the people behind them come from the same computation.

Routing of a card holder (spec 05 "Status data"): 退休 / 死亡 in the registry → excluded
(counted); already insured this year (any union, channel or 申工社) → not offered; 社保缴纳 not
已缴纳 or 就业状态 不明确 (also: no registry record yet) → 集中参保待确认名单 until the operator
confirms (irreversible); everyone else → 可参保.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import peewee as pw

from models.base import DomainError, in_values, today
from models.cards.cards import CARD_NORMAL, Card, card_channel_people, channel_card
from models.enroll import enrollment, plans
from models.enroll.enrollment import (
    CARD_CHANNEL,
    CENTRAL,
    DEAD,
    NEW_CARD,
    PAID,
    RETIRED,
    UNCLEAR,
    Confirmation,
    Enrollment,
    StatusRecord,
    Submission,
    holder_of,
)
from models.enroll.plans import ProtectionYear
from models.members.people import HELD, NORMAL, Membership, Person
from models.orgs.organizations import Organization
from models.rules import retirement

COUNTS = [("total", "会员总人数"), ("cards", "有卡总会员数"), ("submitted", "集中参保已提交人数"),
          ("no_card", "未办卡人数"), ("retired", "退休人数"), ("dead", "死亡人数"), ("pending", "待确认人数")]
LABELS = dict(COUNTS) | {"eligible": "可参保人员", "flagged": "已达或可能已达法定退休年龄的可参保人员",
                         "confirmed": "已确认人员"}


class CardConfirm(Confirmation):
    """集中参保待确认名单 → 确认: the operator vouches for a card holder whose social insurance is
    not confirmed by the registry. Irreversible."""

    class Meta:
        options = {}


@dataclass(frozen=True)
class Status:
    employment: str
    insurance: str


@dataclass
class Screen:
    year: ProtectionYear
    sets: dict = field(default_factory=dict)  # key of COUNTS / eligible / flagged → set of person ids

    def count(self, key: str) -> int:
        return len(self.sets[key])


def central_screen(org: Organization, year: ProtectionYear, on: date | None = None) -> Screen:
    """The screen as it stands on `on` (today): a card counts (有卡总会员数, 可参保) from the day
    after it became known (`cards.card_channel_people`); until then its holder counts as 未办卡 (and stays in
the social-security channel)."""
    on = on or today()
    members = list(Membership.select(Membership.person, Person.id_number, Person.birth_date, Person.gender)
                   .join(Person).where((Membership.org == org.id) & (Membership.status == NORMAL)
                                       & (Person.population_removed == False)).tuples())  # noqa: E712
    ids = [pid for pid, *_ in members]
    cards = {r[0] for r in card_channel_people(on).where(in_values(Card.person, ids)).tuples()} if ids else set()
    holders = [m for m in members if m[0] in cards]
    later = {r[0] for r in Card.select(Card.person).where(
        in_values(Card.person, ids) & (Card.status == CARD_NORMAL) & (Card.eligible_from > on))
        .tuples()} if ids else set()
    registry = {r[0]: Status(*r[1:]) for r in StatusRecord.select(
        StatusRecord.id_number, StatusRecord.employment, StatusRecord.insurance).where(
        in_values(StatusRecord.id_number, [m[1] for m in holders])).tuples()} if holders else {}
    insured = holder_of(year, [m[0] for m in holders])
    confirmed = CardConfirm.people(org, year)
    eve = date(year.year, 1, 1) - timedelta(days=1)
    s = {key: set() for key, _ in COUNTS} | {"eligible": set(), "flagged": set(), "confirmed": confirmed}
    s["total"] = set(ids)
    s["cards"] = {m[0] for m in holders}
    s["no_card"] = s["total"] - s["cards"]
    s["later"] = later  # 未办卡 today, usable from a later day (a card opened or imported today)
    for pid, number, birth, gender in holders:
        status = registry.get(number)
        held = insured.get(pid)
        if held is not None:
            if held.org_id == org.id and held.channel == CARD_CHANNEL and held.mode == CENTRAL:
                s["submitted"].add(pid)
            continue
        if status and status.employment == RETIRED:
            s["retired"].add(pid)
        elif status and status.employment == DEAD:
            s["dead"].add(pid)
        elif pid not in confirmed and (status is None or status.insurance != PAID
                                        or status.employment == UNCLEAR):
            s["pending"].add(pid)
        else:
            s["eligible"].add(pid)
            if retirement.flag(birth, gender, eve):
                s["flagged"].add(pid)
    return Screen(year=year, sets=s)


def people(ids) -> pw.ModelSelect:
    """The people behind a count, with their current membership, in a stable order."""
    return (Person.select(Person, Membership).join(Membership, on=(Membership.person == Person.id))
            .where(Person.id.in_(list(ids) or [0]) & Membership.status.in_(HELD))
            .order_by(Person.id))


def card_numbers(person_ids: list) -> dict:
    """{person id: 卡号} of their 正常 cards (the confirmation screen's column)."""
    return dict(Card.select(Card.person, Card.card_no).where(
        Card.person.in_(person_ids or [0]) & (Card.status == CARD_NORMAL)).tuples())


def find_people(ids, name: str = "", number: str = "") -> pw.ModelSelect:
    """`people(ids)` narrowed to a name (exact) and an ID number or 会员编号."""
    query = people(ids)
    if name:
        query = query.where(Person.name == name)
    if number:
        query = query.where((Person.id_number == number) | (Membership.member_no == number))
    return query


def pending_list(org: Organization, year: ProtectionYear) -> tuple[list, set]:
    """集中参保待确认名单: the pending people and the ones already confirmed (shown as 已确认)."""
    screen = central_screen(org, year)
    return sorted(screen.sets["pending"] | (screen.sets["confirmed"] & screen.sets["cards"])), screen.sets["confirmed"]


def confirm(org: Organization, year: ProtectionYear, person_ids: list | None, account) -> int:
    """确认 / 全部确认 (person_ids None): only people on the union's pending list; irreversible."""
    return CardConfirm.record(org, year, central_screen(org, year).sets["pending"], person_ids, account,
                              "集中参保待确认名单确认", "待确认名单中没有可确认的人员（可能已被确认，请刷新）")


def central_submit(org: Organization, year: ProtectionYear, ptype, account, on: date,
                   exclude_flagged: bool = False, excluded: set | None = None):
    """提交至区局审核: everyone 可参保 (minus the flagged when excluded, minus the ones ticked off)."""
    plans.require_window(year, "grassroots", org)
    screen = central_screen(org, year, on)
    chosen = screen.sets["eligible"] - (screen.sets["flagged"] if exclude_flagged else set()) - (excluded or set())
    if not chosen:
        raise DomainError("没有可参保的人员：可参保人员都已提交，或均被排除", 422)
    persons = list(Person.select().where(Person.id.in_(sorted(chosen))).order_by(Person.id))
    return enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, ptype, persons, account, on)


def submissions(org: Organization, year: ProtectionYear | None = None):
    query = Submission.select().where((Submission.org == org.id) & (Submission.channel == CARD_CHANNEL))
    if year is not None:
        query = query.where(Submission.year == year.id)
    return query.order_by(Submission.id.desc())


def enrolled_people(sub) -> pw.ModelSelect:
    return (Enrollment.select(Enrollment, Person).join(Person).where(Enrollment.submission == sub.id)
            .order_by(Enrollment.id))


def instant_candidates(org: Organization, year: ProtectionYear, mode: str, on: date) -> list:
    """有卡无保 / 新办卡人员即时参保办理: the union's card holders not insured this year, whose card
    makes them eligible on `on` (`cards.channel_card`), 退休 / 死亡 in the registry excluded. 新办卡: cards issued
    in the year; 有卡无保: cards issued before it. Returns [(Person, card issued date)]."""
    first = date(year.year, 1, 1)
    rows = (Person.select(Person, Card.issued_date.alias("issued"))
            .join(Membership, on=(Membership.person == Person.id))
            .join(Card, on=(Card.person == Person.id))
            .where((Membership.org == org.id) & (Membership.status == NORMAL) & channel_card(on)
                   & (Person.population_removed == False))  # noqa: E712
            .order_by(Person.id).objects())
    rows = [r for r in rows if (r.issued >= first) == (mode == NEW_CARD)]
    insured = holder_of(year, [r.id for r in rows])
    registry = {s.id_number: s for s in StatusRecord.select().where(
        StatusRecord.id_number.in_([r.id_number for r in rows]))} if rows else {}
    out = []
    for r in rows:
        status = registry.get(r.id_number)
        if r.id in insured or (status and status.employment in (RETIRED, DEAD)):
            continue
        out.append((r, r.issued))
    return out


def instant_submit(org: Organization, year: ProtectionYear, mode: str, ptype, account, on: date,
                   person_ids: set | None = None):
    """即时参保: the ticked candidates (all when none given); start the next day (新办卡: the day after
    the card was generated, never before the submission), 全年 or 半年 by the start date."""
    plans.require_window(year, "instant", org)
    candidates = instant_candidates(org, year, mode, on)
    chosen = [(p, issued) for p, issued in candidates if person_ids is None or p.id in person_ids]
    if not chosen:
        raise DomainError("没有可参保的人员", 422)
    days = {p.id: max(issued, on) for p, issued in chosen} if mode == enrollment.NEW_CARD else None
    return enrollment.submit(org, year, enrollment.CARD_CHANNEL, mode, ptype, [p for p, _ in chosen], account, on,
                             card_days=days)
