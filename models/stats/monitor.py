"""集中参保实时监控画面 (spec 60, issue 8 item 7): for the district and the secondary unions, per direct
child of the account's organisation (secondary unions; the grassroots unions directly under it share
one bucket 直属基层工会): unions 已提交 / 退回 / 未提交, people enrolled (active centralized
enrollments) and eligible (可参保). Read from the maintained counters of models/stats/tally.py (one
row per organisation shown, issue 19); the unions behind a number (`monitor_unions`) paged from the
same counters, each with its own numbers (a page reads its 15 unions and the organisations above
them, never the district's or the city's unions). The states are defined in
models/stats/enroll_stats.py (the same sets behind the 统计表).

可参保 (eligible, a documented simplification of the two confirmation screens): 正常 members of the
union, not removed from the population, in the member-card channel today (`cards.card_channel_people`)
or with ID type 身份证 (everyone else with it is in the social-security channel), not 退休 / 死亡 in
the registry (counted by models/stats/tally.py, `eligible_rows`).
"""

import functools
import operator
from dataclasses import dataclass, field

import peewee as pw

from models.base import in_values, today
from models.enroll.plans import ProtectionYear
from models.orgs.organizations import ACTIVE as ORG_ACTIVE
from models.orgs.organizations import ENTERPRISE_LEVEL, LEVELS, Organization, OrgTree
from models.stats import tally
from models.stats.enroll_stats import NOT_SUBMITTED, STATES
from models.stats.tally import EligibleTally, UnionTally, YearTally

NOT_GRASSROOTS = sorted(set(LEVELS) - {"grassroots"} | {ENTERPRISE_LEVEL})  # the levels with a group of their own
DIRECT = "直属基层工会"  # the bucket of grassroots unions directly under the root


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


def group_of(root: Organization, key: int) -> Organization | None:
    """The direct child of root named by a monitor link (None for 直属基层工会 or anything else)."""
    if not key:
        return None
    return Organization.get_or_none((Organization.id == key) & (Organization.parent == root.id)
                                    & (Organization.level != "grassroots"))


# --- the unions behind a number (issue 19: a page reads its rows, not the scope) ----------------------
TREE_LEVELS = ("city", "centre", "district", "secondary")  # the levels above the grassroots unions in the tree
PER_PAGE = 15


def monitor_unions(root: Organization, year: ProtectionYear, state: str = "", group: int | None = None,
                   number: int = 1, per_page: int = PER_PAGE) -> tuple[list, int, int]:
    """(the page's unions, their total, the page number) behind a monitor number: root's open
    grassroots unions, optionally in one state and under one group (a child's id, 0 for
    直属基层工会), in the tree's order — an organisation's own unions (a union's 分工会 after it),
    then its non-grassroots children's, each in turn, by id.

    The counters say how many matching unions each organisation's subtree holds (and, minus its
    non-grassroots children's, how many hang directly under it), so the page is found by walking
    down: at each organisation its children with their counters (one statement), whole subtrees
    before the page skipped, then, under the one or two organisations the page falls in, their
    grassroots unions' counter rows in id order up to the page's last and the page's unions
    (`_segment_rows`). What a page reads is bounded by the tree's fan-out and the unions directly
    under one organisation (their index and counter rows only), never by the district's or the
    city's unions."""
    state = state if state in STATES else ""
    scope = root if group == 0 else group_of(root, group) if group else root
    if scope is None:
        return [], 0, 1
    numbers = _with_counters(year, Organization.id == scope.id)
    if not numbers:
        return [], 0, 1
    walk = _Walk(year, state)
    children = walk.children_of([scope.id])[scope.id]
    total = walk.direct(numbers[0], children) if group == 0 else walk.count(numbers[0])
    number = max(1, min(number, -(-total // per_page) or 1))
    walk.skip, walk.take = (number - 1) * per_page, per_page
    walk.visit(numbers[0], children, only_direct=group == 0)
    return _segment_rows(walk.segments, year, state), total, number


class _Walk:
    """The page found down the tree (see monitor_unions): `segments` [(organisation, skip, take)]
    of the unions directly under each organisation the page falls in, in list order. The
    children of the organisations entered are read one statement per level of the tree."""

    def __init__(self, year: ProtectionYear, state: str):
        self.year, self.state = year, state
        self.skip, self.take, self.segments = 0, 0, []

    def count(self, numbers: tuple) -> int:
        _o, _p, unions, submitted, returned = numbers
        return {"submitted": submitted, "returned": returned,
                "not_submitted": unions - submitted - returned}.get(self.state, unions)

    def children_of(self, org_ids: list) -> dict:
        out = {o: [] for o in org_ids}
        for row in sorted(_with_counters(self.year, Organization.parent.in_(org_ids)
                                         & Organization.level.in_(TREE_LEVELS))):
            out[row[1]].append(row)
        return out

    def direct(self, numbers: tuple, children: list) -> int:
        return self.count(numbers) - sum(self.count(c) for c in children)

    def visit(self, numbers: tuple, children: list, only_direct: bool = False) -> None:
        direct = self.direct(numbers, children)
        if self.take and self.skip < direct:
            n = min(self.take, direct - self.skip)
            self.segments.append((numbers[0], self.skip, n))
            self.skip, self.take = 0, self.take - n
        else:
            self.skip -= min(self.skip, direct)
        entered, skip, take, first_skip = [], self.skip, self.take, 0
        for child in [] if only_direct else children:  # the children the page falls in: by their counts
            n = self.count(child)
            if take and skip < n:
                first_skip = skip if not entered else first_skip
                entered.append(child)
                take -= min(take, n - skip)
                skip = 0
            else:
                skip -= min(skip, n)
        if not entered:
            self.skip = skip
            return
        self.skip = first_skip
        below = self.children_of([c[0] for c in entered])
        for child in entered:
            self.visit(child, below[child[0]])


def _with_counters(year: ProtectionYear, where) -> list:
    """[(id, parent, unions, submitted, returned)] of the organisations matching `where`."""
    return [(o, p, u or 0, s or 0, r or 0) for o, p, u, s, r in (
        Organization.select(Organization.id, Organization.parent, UnionTally.unions, YearTally.submitted,
                            YearTally.returned)
        .join(UnionTally, pw.JOIN.LEFT_OUTER, on=(UnionTally.org == Organization.id))
        .join(YearTally, pw.JOIN.LEFT_OUTER, on=((YearTally.org == Organization.id) & (YearTally.year == year.id)),
              src=Organization)
        .where(where).tuples())]


def _count_of(state: str):
    """The number of `state`'s open grassroots unions in an organisation's subtree, from its
    counter rows (UnionTally, YearTally of the year, joined to it)."""
    unions = pw.fn.COALESCE(UnionTally.unions, 0)
    submitted, returned = pw.fn.COALESCE(YearTally.submitted, 0), pw.fn.COALESCE(YearTally.returned, 0)
    return {"submitted": submitted, "returned": returned,
            "not_submitted": unions - submitted - returned}.get(state, unions)


def _segment_rows(segments: list, year: ProtectionYear, state: str) -> list:
    """The unions of the page's segments [(organisation, skip, take)] in list order, in two
    statements whatever the segments. First, per segment, the organisation's grassroots children
    in id order from the index organization_parent_level_id, each with its subtree's count from
    its counter rows and their running sum, stopping at the page's last child (SQL LIMIT: a child
    counted holds at least one matching union) — the children before the page are skipped by their
    counters, never read further. Then the subtrees of the page's children (the unions and their
    分工会: closure rows of those few children by key) with their year's counter rows: each union's
    own state is its row minus its 分工会' rows, and the open ones in `state` are cut to the page.
    No LIMIT on the closure table (ordered by one, PostgreSQL walked it whole) and no correlated
    subqueries (their estimates set off PostgreSQL's JIT compilation, ~25 ms a page)."""
    if not segments:
        return []
    count = _count_of(state)
    parts = []
    for position, (org_id, skip, take) in enumerate(segments):
        children = (Organization.select(pw.SQL(str(int(position))).alias("seg"), Organization.id.alias("child"),
                                        count.alias("n"),
                                        pw.fn.SUM(count).over(order_by=[Organization.id]).alias("upto"))
                    .join(UnionTally, pw.JOIN.LEFT_OUTER, on=(UnionTally.org == Organization.id))
                    .join(YearTally, pw.JOIN.LEFT_OUTER,
                          on=((YearTally.org == Organization.id) & (YearTally.year == year.id)), src=Organization)
                    .where((Organization.parent == org_id) & (Organization.level == "grassroots"))
                    .order_by(Organization.id))
        page = (children.select_from(pw.SQL("seg"), pw.SQL("child"), pw.SQL("n"), pw.SQL("upto"))
                .where((pw.SQL("n") > 0) & (pw.SQL("upto") > skip)).order_by(pw.SQL("child")).limit(take))
        parts.append(page.select_from(pw.SQL("*")))
    first = {}  # the page's children: {child: (segment, its matching unions before the page)}
    for seg, child, n, upto in functools.reduce(operator.add, parts).tuples():
        first[child] = (seg, max(0, segments[seg][1] - (int(upto) - int(n))))
    if not first:
        return []
    subtree = list(Organization.select(Organization, OrgTree.ancestor.alias("page_child"),
                                       YearTally.submitted.alias("year_submitted"),
                                       YearTally.returned.alias("year_returned"))
                   .join(OrgTree, on=(OrgTree.descendant == Organization.id))
                   .join(YearTally, pw.JOIN.LEFT_OUTER,
                         on=((YearTally.org == Organization.id) & (YearTally.year == year.id)), src=Organization)
                   .where(in_values(OrgTree.ancestor, list(first))).objects())
    own = {(u.page_child, u.id): [u.year_submitted or 0, u.year_returned or 0] for u in subtree}
    for u in subtree:  # a union's own state: its counter row minus its 分工会' rows (open or not)
        if u.id != u.page_child and (u.page_child, u.parent_id) in own:
            above = own[(u.page_child, u.parent_id)]
            above[0] -= u.year_submitted or 0
            above[1] -= u.year_returned or 0
    wanted = {"submitted": lambda s, r: s > 0, "returned": lambda s, r: r > 0,
              "not_submitted": lambda s, r: s + r < 1}.get(state, lambda s, r: True)
    by_segment, seen = [[] for _ in segments], {}
    for u in sorted(subtree, key=lambda u: (first[u.page_child][0], u.page_child, u.id)):
        if u.level != "grassroots" or u.status != ORG_ACTIVE or not wanted(*own[(u.page_child, u.id)]):
            continue
        seg, before = first[u.page_child]
        seen[u.page_child] = seen.get(u.page_child, 0) + 1
        if seen[u.page_child] > before:
            by_segment[seg].append(u)
    return [u for (_org, _skip, take), unions in zip(segments, by_segment, strict=True) for u in unions[:take]]


def union_numbers(year: ProtectionYear, org_ids: list) -> dict:
    """{union id: (状态, 集中参保人数, 可参保人数)} for one page of unions, from their counters (their own
    rows minus their 分工会' rows: three indexed reads of the page's unions)."""
    if not org_ids:
        return {}
    eligible, years = tally.own_numbers(org_ids, year.id)
    on = today()
    out = {}
    for oid in org_ids:
        submitted, returned, enrolled = years.get((oid, year.id), (0, 0, 0))
        state = STATES["submitted"] if submitted else STATES["returned"] if returned else NOT_SUBMITTED
        out[oid] = (state, enrolled, sum(n for (o, day), n in eligible.items() if o == oid and day <= on))
    return out
