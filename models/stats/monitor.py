"""集中参保实时监控画面 (spec 60, issue 8 item 7): for the district and the secondary unions, per direct
child of the account's organisation (secondary unions; the grassroots unions directly under it share
one bucket 直属基层工会): unions 已提交 / 退回 / 未提交, people enrolled (active centralized
enrollments) and eligible (可参保). Read from the maintained counters of models/stats/tally.py (one
row per organisation shown, issue 19); the unions behind a number with their own numbers, counted
from the rows for the page. The states are defined in models/stats/enroll_stats.py (the same sets
behind the 统计表).

可参保 (eligible, a documented simplification of the two confirmation screens): 正常 members of the
union, not removed from the population, in the member-card channel today (`cards.card_channel_people`)
or with ID type 身份证 (everyone else with it is in the social-security channel), not 退休 / 死亡 in
the registry.
"""

from dataclasses import dataclass, field

import peewee as pw

from models.base import in_values, today
from models.cards.cards import card_channel_people
from models.enroll.enrollment import CENTRAL, DEAD, RETIRED, Enrollment, StatusRecord, Submission
from models.enroll.plans import ProtectionYear
from models.members.people import ID_CARD, NORMAL, Membership, Person
from models.orgs.organizations import ENTERPRISE_LEVEL, LEVELS, Organization
from models.stats.enroll_stats import (
    NOT_SUBMITTED,
    STATES,
    active_orgs,
    grassroots_of,
    returned_orgs,
    union_state,
)
from models.stats.tally import EligibleTally, UnionTally, YearTally

NOT_GRASSROOTS = sorted(set(LEVELS) - {"grassroots"} | {ENTERPRISE_LEVEL})  # the levels with a group of their own
DIRECT = "直属基层工会"  # the bucket of grassroots unions directly under the root
EXCLUDED = (RETIRED, DEAD)  # 就业状态 in the registry that excludes from 可参保


@dataclass
class Group:
    key: int  # the child's id, 0 for 直属基层工会
    name: str
    unions: int = 0
    submitted: int = 0
    returned: int = 0
    enrolled: int = 0
    eligible: int = 0

    @property
    def not_submitted(self) -> int:
        return self.unions - self.submitted - self.returned


@dataclass
class Monitor:
    year: ProtectionYear
    groups: list = field(default_factory=list)

    @property
    def total(self) -> Group:
        out = Group(key=-1, name="合计")
        for g in self.groups:
            for name in ("unions", "submitted", "returned", "enrolled", "eligible"):
                setattr(out, name, getattr(out, name) + getattr(g, name))
        return out


def monitor(root: Organization, year: ProtectionYear) -> Monitor:
    """The monitor's numbers per direct child of root, from the counters (models/stats/tally.py):
    root's own row, its non-grassroots children's rows with their names, their year rows and their
    可参保 rows up to today — four queries reading one row per organisation shown, whatever the
    size of the city. 直属基层工会 is root's total minus its children's."""
    child = ((Organization.parent == root.id) & Organization.level.in_(NOT_GRASSROOTS))  # on (parent, level)
    total = UnionTally.select(UnionTally.unions).where(UnionTally.org == root.id).scalar() or 0
    children = list(Organization.select(Organization.id, Organization.name, UnionTally.unions)
                    .join(UnionTally, on=(UnionTally.org == Organization.id))
                    .where(child & (UnionTally.unions > 0)).tuples())
    shown = [root.id] + [c for c, _n, _u in children]
    years = {org: numbers for org, *numbers in YearTally.select(
        YearTally.org, YearTally.submitted, YearTally.returned, YearTally.enrolled)
        .where(in_values(YearTally.org, shown) & (YearTally.year == year.id)).tuples()}
    eligible = dict(EligibleTally.select(EligibleTally.org, pw.fn.SUM(EligibleTally.people))
                    .where(in_values(EligibleTally.org, shown) & (EligibleTally.day <= today()))
                    .group_by(EligibleTally.org).tuples())
    groups, direct = [], [total, *years.get(root.id, [0, 0, 0]), int(eligible.get(root.id) or 0)]
    for org_id, name, unions in children:
        numbers = [unions, *years.get(org_id, [0, 0, 0]), int(eligible.get(org_id) or 0)]
        direct = [a - b for a, b in zip(direct, numbers, strict=True)]
        groups.append(_group(org_id, name, numbers))
    if direct[0] > 0:
        groups.append(_group(0, DIRECT, direct))
    groups.sort(key=lambda g: (g.key == 0, g.name))
    return Monitor(year=year, groups=groups)


def _group(key: int, name: str, numbers: list) -> Group:
    unions, submitted, returned, enrolled, eligible = (int(n or 0) for n in numbers)
    return Group(key=key, name=name, unions=unions, submitted=submitted, returned=returned, enrolled=enrolled,
                 eligible=eligible)


def _eligible(query: pw.ModelSelect) -> pw.ModelSelect:
    """A membership query narrowed to 可参保 (see the module docstring): the member-card channel's
    people and the other members with ID type 身份证 (the social-security channel), not 退休 / 死亡 in
    the registry — one definition for the monitor's counts and the union lists."""
    holders = card_channel_people(today())
    return (query.join(Person, on=(Person.id == Membership.person))
            .join(StatusRecord, pw.JOIN.LEFT_OUTER, on=(StatusRecord.id_number == Person.id_number))
            .where((Membership.status == NORMAL) & (Person.population_removed == False)  # noqa: E712
                   & ((Person.id_type == ID_CARD) | Person.id.in_(holders))
                   & (StatusRecord.id.is_null() | StatusRecord.employment.not_in(EXCLUDED))))


def eligible_members(root: Organization) -> pw.ModelSelect:
    """可参保 memberships of root's open grassroots unions."""
    return (_eligible(Membership.select()).switch(Membership)
            .join(Organization, on=(Organization.id == Membership.org)).where(grassroots_of(root)))


def group_of(root: Organization, key: int) -> Organization | None:
    """The direct child of root named by a monitor link (None for 直属基层工会 or anything else)."""
    if not key:
        return None
    return Organization.get_or_none((Organization.id == key) & (Organization.parent == root.id)
                                    & (Organization.level != "grassroots"))


def monitor_unions(root: Organization, year: ProtectionYear, state: str = "", group: int | None = None):
    """The unions behind a monitor number: root's grassroots unions, optionally in one state and
    under one bucket (a child's id, 0 for 直属基层工会)."""
    query = Organization.select().where(grassroots_of(root))
    if state in STATES:
        query = query.where(union_state(year, state))
    if group == 0:
        query = query.where(Organization.parent == root.id)
    elif group:
        child = group_of(root, group)
        query = query.where(Organization.id.in_(child.subtree_ids()) if child else False)
    return query.order_by(Organization.parent, Organization.id)


def union_numbers(year: ProtectionYear, org_ids: list) -> dict:
    """{union id: (状态, 集中参保人数, 可参保人数)} for one page of unions (three grouped queries)."""
    if not org_ids:
        return {}
    active = set(r[0] for r in active_orgs(year).where(in_values(Submission.org, org_ids)).tuples())
    returned = set(r[0] for r in returned_orgs(year).where(in_values(Submission.org, org_ids)).tuples())
    enrolled = dict(Enrollment.select(Enrollment.org, pw.fn.COUNT(Enrollment.id))
                    .where((Enrollment.year == year.id) & Enrollment.active & (Enrollment.mode == CENTRAL)
                           & in_values(Enrollment.org, org_ids)).group_by(Enrollment.org).tuples())
    eligible = dict(_eligible(Membership.select(Membership.org, pw.fn.COUNT(Membership.id)))
                    .where(in_values(Membership.org, org_ids)).group_by(Membership.org).tuples())
    out = {}
    for oid in org_ids:
        state = STATES["submitted"] if oid in active else STATES["returned"] if oid in returned else NOT_SUBMITTED
        out[oid] = (state, enrolled.get(oid, 0), eligible.get(oid, 0))
    return out
