"""The dashboard counters stay equal to direct counts of the memberships, whatever happens to
them (property test), and rebuild() reproduces them exactly."""

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import db
from models.members import counts as stats
from models.members import members
from models.members.counts import MemberDay, OrgMemberCount, OrgSubtreeCount
from models.members.people import MEMBER_STATUSES, Membership
from models.orgs.organizations import Organization, OrgTree
from tests import factories

DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]


def direct_total(root):
    sub = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == root.id)
    return Membership.select().where((Membership.status == "正常") & Membership.org.in_(sub)).count()


def direct_daily(root, start, end):
    sub = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == root.id)
    out = {}
    for m in Membership.select().where(Membership.org.in_(sub)):
        if m.status == "正常" and m.join_date and start <= m.join_date <= end:
            j, a = out.get(m.join_date, (0, 0))
            out[m.join_date] = (j + 1, a)
        if m.approved_at and start <= m.approved_at.date() <= end:
            day = m.approved_at.date()
            j, a = out.get(day, (0, 0))
            out[day] = (j, a + 1)
    return {d: v for d, v in out.items() if v != (0, 0)}


def counters():
    return (sorted(OrgMemberCount.select().where(OrgMemberCount.members != 0).tuples()),
            sorted(OrgSubtreeCount.select().where(OrgSubtreeCount.members != 0).tuples()),
            sorted((o, str(d), j, a) for o, d, j, a in MemberDay.select().where(
                (MemberDay.joined != 0) | (MemberDay.activated != 0)).tuples()))


operation = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 5), st.sampled_from(MEMBER_STATUSES),
              st.sampled_from(DAYS), st.booleans()),
    st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(MEMBER_STATUSES)),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 5)),
    st.tuples(st.just("date"), st.integers(0, 50), st.sampled_from(DAYS)),
    st.tuples(st.just("approve"), st.integers(0, 50), st.sampled_from(DAYS)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_counters_equal_direct_counts_after_random_changes(city, ops):
    unions = [city.orgs[k] for k in ("grassroots1", "direct1", "grassroots2", "direct2",
                                     "temporary1", "secondary1")]
    roots = [city.orgs[k] for k in ("city", "district1", "district2", "secondary1", "grassroots1")]
    with db.atomic() as savepoint:
        made = []
        for op in ops:
            if op[0] == "join":
                _, u, status, day, approved = op
                m = factories.make_member(unions[u], status=status, join_date=day,
                                          approved_at=datetime.combine(day, datetime.min.time()) if approved else None)
                made.append(m)
            elif made:
                m = made[op[1] % len(made)]
                if op[0] == "status":
                    try:
                        with db.atomic():
                            made[op[1] % len(made)] = members.change(m, status=op[2])
                    except Exception:  # noqa: BLE001 — the one-active-membership index refused
                        pass
                elif op[0] == "move":
                    made[op[1] % len(made)] = members.change(m, org=unions[op[2]])
                elif op[0] == "date":
                    made[op[1] % len(made)] = members.change(m, join_date=op[2])
                else:
                    made[op[1] % len(made)] = members.change(
                        m, approved_at=datetime.combine(op[2], datetime.min.time()))
        for root in roots:
            assert stats.member_total(root.id) == direct_total(root)
            assert stats.daily(root.id, DAYS[2], DAYS[7]) == direct_daily(root, DAYS[2], DAYS[7])
            assert stats.joined_after(root.id, DAYS[4]) == sum(
                j for d, (j, _) in direct_daily(root, DAYS[5], DAYS[-1]).items())
        maintained = counters()
        stats.rebuild()
        assert counters() == maintained
        savepoint.rollback()


def test_moving_an_organisation_moves_its_members_in_the_totals(city):
    g = city.orgs["grassroots1"]  # under secondary1 in district1
    for _ in range(3):
        factories.make_member(g)
    before = (stats.member_total(city.orgs["district1"].id), stats.member_total(city.orgs["district2"].id))
    Organization.get_by_id(g.id).move(city.orgs["district2"])
    after = (stats.member_total(city.orgs["district1"].id), stats.member_total(city.orgs["district2"].id))
    assert after == (before[0] - 3, before[1] + 3)
    assert after == (direct_total(city.orgs["district1"]), direct_total(city.orgs["district2"]))
    assert stats.member_total(city.orgs["secondary1"].id) == direct_total(city.orgs["secondary1"])


def test_subtree_counts_follow_the_tree_and_the_counters_whatever_writes_them(city):
    """org_subtree_count is kept by the database (migration 033): a union's count bumped in bulk (as the
    imports do), an organisation added under a union with members, one removed, and a rebuild."""
    def subtree_totals():
        return {o.id: stats.member_total(o.id) for o in Organization.select()}

    def direct_totals():
        return {o.id: direct_total(o) for o in Organization.select()}
    for _ in range(2):
        factories.make_member(city.orgs["grassroots1"])
    factories.make_member(city.orgs["direct2"])
    assert subtree_totals() == direct_totals()
    child = factories.make_org(city.orgs["grassroots1"], "工会委员会", name="子工会")
    factories.make_member(child)
    assert subtree_totals() == direct_totals() and stats.member_total(city.orgs["district1"].id) == 3
    OrgMemberCount.update(members=OrgMemberCount.members + 5).where(OrgMemberCount.org == child.id).execute()
    assert stats.member_total(city.orgs["secondary1"].id) == direct_total(city.orgs["secondary1"]) + 5
    OrgMemberCount.update(members=OrgMemberCount.members - 5).where(OrgMemberCount.org == child.id).execute()
    empty = factories.make_org(city.orgs["secondary1"], "工会委员会", name="空工会")
    Organization.delete().where(Organization.id == empty.id).execute()
    assert subtree_totals() == direct_totals()
    stats.rebuild()
    assert subtree_totals() == direct_totals()
    assert stats.member_total(city.orgs["city"].id) == Membership.select().where(Membership.status == "正常").count()


def test_city_total_skips_the_join_only_when_it_is_the_whole_tree(city):
    factories.make_member(city.orgs["grassroots1"])
    assert stats.is_whole_tree(city.orgs["city"].id)
    assert stats.member_total(city.orgs["city"].id) == direct_total(city.orgs["city"]) == 1
    other = factories.make_org(None, "市总工会", name="另一个市总工会")
    factories.make_member(factories.make_org(other, "工会委员会"))
    assert not stats.is_whole_tree(city.orgs["city"].id)
    assert stats.member_total(city.orgs["city"].id) == direct_total(city.orgs["city"]) == 1
    assert stats.member_total(other.id) == 1
