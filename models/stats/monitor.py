"""集中参保实时监控画面 (spec 60, issue 8 item 7): for the district and the secondary unions, per direct
child of the account's organisation (secondary unions; the grassroots unions directly under it share
one bucket 直属基层工会): unions 已提交 / 退回 / 未提交, people enrolled (active centralized
enrollments) and eligible (可参保). Three grouped queries over the closure table, never a loop over
unions or members; the unions behind a number with their own numbers. The states are defined in
models/stats/enroll_stats.py (the same sets behind the 统计表).

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
from models.orgs.organizations import Organization, OrgTree
from models.stats.enroll_stats import (
    NOT_SUBMITTED,
    STATES,
    active_orgs,
    grassroots_of,
    returned_orgs,
    union_state,
)

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


def _by_bucket(query, root: Organization, org_column, *measures) -> dict:
    """{bucket: [measure, …]} of `query` (rows of unions or of their members at `org_column`):
    grouped by the direct child of root above each union — one query; the children that are
    grassroots unions themselves are then added up as bucket 0 (直属基层工会)."""
    child = Organization.alias("child")
    tree = OrgTree.alias("bucket_tree")
    rows = (query.select(child.id, child.level, *measures)
            .join(tree, on=(tree.descendant == org_column))
            .join(child, on=((child.id == tree.ancestor) & (child.parent == root.id)))
            .group_by(child.id, child.level).tuples())
    out: dict = {}
    for child_id, level, *numbers in rows:
        key = 0 if level == "grassroots" else child_id
        sums = out.setdefault(key, [0] * len(measures))
        for i, n in enumerate(numbers):
            sums[i] += int(n or 0)
    return out


def monitor(root: Organization, year: ProtectionYear) -> Monitor:
    """The monitor's numbers per direct child of root: one grouped query for the unions and their
    states, one for the people enrolled, one for the people eligible."""
    states = _by_bucket(Organization.select().where(grassroots_of(root)), root, Organization.id,
                        pw.fn.COUNT(Organization.id),
                        pw.fn.SUM(pw.Case(None, [(union_state(year, "submitted"), 1)], 0)),
                        pw.fn.SUM(pw.Case(None, [(union_state(year, "returned"), 1)], 0)))
    enrolled = _by_bucket(
        Enrollment.select().join(Organization, on=(Organization.id == Enrollment.org))
        .where((Enrollment.year == year.id) & Enrollment.active & (Enrollment.mode == CENTRAL) & grassroots_of(root)),
        root, Enrollment.org, pw.fn.COUNT(Enrollment.id))
    eligible = _by_bucket(eligible_members(root), root, Membership.org, pw.fn.COUNT(Membership.id))
    keys = set(states) | set(enrolled) | set(eligible)
    names = dict(Organization.select(Organization.id, Organization.name)
                 .where(Organization.id.in_([k for k in keys if k] or [0])).tuples())
    groups = []
    for k in keys:
        unions, submitted, returned = states.get(k, [0, 0, 0])
        groups.append(Group(key=k, name=names.get(k, DIRECT), unions=unions, submitted=submitted, returned=returned,
                            enrolled=enrolled.get(k, [0])[0], eligible=eligible.get(k, [0])[0]))
    groups.sort(key=lambda g: (g.key == 0, g.name))
    return Monitor(year=year, groups=groups)


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
