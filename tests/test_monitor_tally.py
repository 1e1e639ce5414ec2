"""The 集中参保实时监控画面's counters (models/stats/tally.py, issue 19 item 1): equal to direct counts
of the rows after random changes through every write path that moves them (property test), after
each path on its own, and after rebuild(); the monitor reads them — never the memberships,
enrollments or submissions — in a number of statements that does not grow with the city."""

from datetime import date, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import db, figures
from models.base import today
from models.cards import card_return, cards
from models.cards.cards import Card, CardBatchItem
from models.enroll import enrollment, plans, status_import
from models.enroll.enrollment import CARD_CHANNEL, CENTRAL, Enrollment, StatusRecord, Submission
from models.members import members
from models.members.people import Membership, Person
from models.orgs import org_changes
from models.orgs.organizations import Organization, OrgTree
from models.review import batches
from models.review import enroll_review as review
from models.stats import monitor as board
from models.stats import tally
from models.stats.tally import EligibleTally, UnionTally, YearTally
from tests import factories
from tests.factories import review as review_factories
from tests.factories.cards import luhn_card
from tests.factories.cards import make_batch as make_card_batch
from tests.factories.enroll import card_holder
from tests.helpers import queries

ON = date(2026, 11, 20)


# --- direct counts, person by person ---------------------------------------------------------------------
def _eligible(m: Membership, on: date) -> bool:
    person = Person.get_by_id(m.person_id)
    card = Card.select().where((Card.person == person.id) & (Card.status == "正常")
                               & (Card.eligible_from <= on)).exists()
    status = StatusRecord.get_or_none(StatusRecord.id_number == person.id_number)
    return (m.status == "正常" and not person.population_removed and (person.id_type == "身份证" or card)
            and not (status and status.employment in ("退休", "死亡")))


def direct(year_ids: list, on: date) -> dict:
    """{organisation: (unions, eligible, {year: (submitted, returned, enrolled)})} of every
    organisation, counted from the rows of its open grassroots unions."""
    own = {}
    for u in Organization.select().where((Organization.level == "grassroots") & (Organization.status == "正常")):
        eligible = sum(_eligible(m, on) for m in Membership.select().where(Membership.org == u.id))
        years = {}
        for y in year_ids:
            subs = list(Submission.select().where((Submission.org == u.id) & (Submission.year == y)
                                                  & (Submission.mode == CENTRAL)).order_by(Submission.id))
            submitted = any(s.status in enrollment.ACTIVE for s in subs)
            returned = not submitted and bool(subs) and subs[-1].status == "退回"
            enrolled = Enrollment.select().where((Enrollment.org == u.id) & (Enrollment.year == y) & Enrollment.active
                                                 & (Enrollment.mode == CENTRAL)).count()
            years[y] = (int(submitted), int(returned), enrolled)
        own[u.id] = (1, eligible, years)
    out = {}
    for o in Organization.select():
        below = [r[0] for r in OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == o.id).tuples()]
        parts = [own[d] for d in below if d in own]
        out[o.id] = (sum(p[0] for p in parts), sum(p[1] for p in parts),
                     {y: tuple(sum(p[2][y][i] for p in parts) for i in range(3)) for y in year_ids})
    return out


def maintained(year_ids: list, on: date) -> dict:
    units = dict(UnionTally.select(UnionTally.org, UnionTally.unions).tuples())
    eligible = {}
    for org_id, day, n in EligibleTally.select(EligibleTally.org, EligibleTally.day, EligibleTally.people).tuples():
        day = date.fromisoformat(day) if isinstance(day, str) else day
        if day <= on:
            eligible[org_id] = eligible.get(org_id, 0) + n
    years = {(o, y): (s, r, e) for o, y, s, r, e in YearTally.select(
        YearTally.org, YearTally.year, YearTally.submitted, YearTally.returned, YearTally.enrolled).tuples()}
    return {o.id: (units.get(o.id, 0), eligible.get(o.id, 0),
                   {y: years.get((o.id, y), (0, 0, 0)) for y in year_ids}) for o in Organization.select()}


def rows() -> tuple:
    """The counters' non-zero rows (to compare maintained with rebuilt)."""
    return (sorted(UnionTally.select(UnionTally.org, UnionTally.unions).where(UnionTally.unions != 0).tuples()),
            sorted((o, str(d)[:10], n) for o, d, n in EligibleTally.select(
                EligibleTally.org, EligibleTally.day, EligibleTally.people).where(EligibleTally.people != 0).tuples()),
            sorted(r for r in YearTally.select(YearTally.org, YearTally.year, YearTally.submitted, YearTally.returned,
                                               YearTally.enrolled).tuples() if any(r[2:])))


def assert_exact(year, on=None):
    on = on or today()
    assert maintained([year.id], on) == direct([year.id], on)


def assert_city_monitor_exact(city, year):
    """The city's 集中参保实时监控画面: one group per district holding unions, each equal to the direct
    count of its subtree, and the total equal to the whole city's."""
    counted = direct([year.id], today())
    shown = board.monitor(city.orgs["city"], year)
    districts = {o.id for o in Organization.select().where(Organization.level == "district")
                 if counted[o.id][0] > 0}
    assert {g.key for g in shown.groups} == districts
    for g in [*shown.groups, shown.total]:
        unions, eligible, years = counted[city.orgs["city"].id if g.key < 0 else g.key]
        assert (g.unions, g.eligible, (g.submitted, g.returned, g.enrolled)) == (unions, eligible, years[year.id])


@pytest.fixture
def year(city):
    return review_factories.ready_year(city)


def submit(org, year, n=1, people=None):
    people = people or [factories.make_member(org).person for _ in range(n)]
    return enrollment.submit(org, year, CARD_CHANNEL, CENTRAL, plans.types_of(year)[0], people, None, ON)


# --- the property test ------------------------------------------------------------------------------------
operation = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 5)),
    st.tuples(st.just("leave"), st.integers(0, 60)),
    st.tuples(st.just("transfer"), st.integers(0, 60), st.integers(0, 5)),
    st.tuples(st.just("id_type"), st.integers(0, 60), st.sampled_from(["身份证", "护照"])),
    st.tuples(st.just("card"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("card_status"), st.integers(0, 60), st.sampled_from(["正常", "挂失", "注销"])),
    # 社保状态导入 of a status dated 0–3 days ago: a row older than the stored one is kept, not written
    st.tuples(st.just("registry"), st.integers(0, 60), st.sampled_from(["在职", "退休", "死亡", "不明确"]),
              st.integers(0, 3)),
    st.tuples(st.just("submit"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("step"), st.integers(0, 60), st.sampled_from(["withdraw", "return", "complete", "restore"])),
    st.tuples(st.just("new_union"), st.integers(0, 2)),
    st.tuples(st.just("close"), st.integers(0, 60)),
    st.tuples(st.just("move_union"), st.integers(0, 60), st.integers(0, 2)),
)


def _apply(op, city, year, unions, parents, made, subs, account):
    kind = op[0]

    def pick(items):
        return items[op[1] % len(items)] if items else None
    if kind == "join":
        made.append(factories.make_member(unions[op[1] % len(unions)]))
    elif kind == "new_union":
        unions.append(factories.make_org(parents[op[1]], "工会委员会"))
    elif kind == "submit":
        org = unions[op[1] % len(unions)]
        if org.status == "正常" and org.level == "grassroots":
            subs.append(submit(org, year, op[2]))
    elif kind == "step":
        sub = pick(subs)
        if sub is None:
            return
        sub = Submission.get_by_id(sub.id)
        if op[2] == "restore":
            if sub.status == "退回":
                review.restore_returned(sub, account, "误退回")
        elif sub.status == "区局确认中":
            enrollment.move(sub, op[2], None, reason="人员有误")
    elif kind == "close":
        org = Organization.get_by_id(pick(unions).id)
        if org.status == "正常" and not org.close_blockers():
            org_changes.close(org, "测试撤销")
    elif kind == "move_union":
        org = Organization.get_by_id(pick(unions).id)
        target = parents[op[2]]
        if org.parent_id != target.id and org.status == "正常":
            org.move(target)
    elif kind == "card":
        org = unions[op[1] % len(unions)]
        if org.status == "正常":
            batch = make_card_batch(org, status=cards.SENT, people=1)
            item = CardBatchItem.get(CardBatchItem.batch == batch.id)
            if op[2]:  # a 护照 holder: counted only from the day after the card is known
                members.apply_identity(Person.get_by_id(item.person_id), {"id_type": "护照"})
            card_return.apply_return([(item, luhn_card(), today() - timedelta(days=3))], account)
            made.append(Membership.get(Membership.person == item.person_id))
    else:
        m = pick(made)
        if m is None:
            return
        m = Membership.get_by_id(m.id)
        if kind == "leave" and m.status == "正常":
            members.delete(m, None, "退休")
        elif kind == "transfer" and m.status == "正常":
            members.change(m, org=unions[op[2] % len(unions)].id)
        elif kind == "id_type":
            members.apply_identity(Person.get_by_id(m.person_id), {"id_type": op[2]})
        elif kind == "card_status":
            card = Card.select().where(Card.person == m.person_id).order_by(Card.id.desc()).first()
            if card is not None and card.status != op[2]:
                try:
                    cards.set_card_status(card, op[2], account, "更正")
                except Exception:  # noqa: BLE001 — refused: another card of the person is held
                    pass
        elif kind == "registry":
            person = Person.get_by_id(m.person_id)
            status_import.apply_status([{"id_number": person.id_number, "name": person.name, "card_status": "正常",
                                         "employment": op[2], "insurance": "已缴纳",
                                         "status_date": today() - timedelta(days=op[3])}])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=18))
def test_counters_equal_direct_counts_after_random_changes(city, year, ops):
    account = city.account("admin")
    o = city.orgs
    unions = [o[k] for k in ("grassroots1", "direct1", "temporary1", "grassroots2", "direct2", "temporary2")]
    parents = [o["secondary1"], o["district1"], o["secondary2"]]
    with db.atomic() as savepoint:
        made, subs = [], []
        for op in ops:
            with db.atomic():
                _apply(op, city, year, unions, parents, made, subs, account)
        assert_exact(year)
        assert_city_monitor_exact(city, year)
        kept = rows()
        tally.rebuild()
        assert rows() == kept
        savepoint.rollback()


# --- each path on its own ------------------------------------------------------------------------------------
def test_the_monitor_equals_direct_counts_and_a_rebuild_on_each_path(city, year):
    """One change per write path, the counters checked after each."""
    o, admin = city.orgs, city.account("admin")
    g = o["grassroots1"]
    m = factories.make_member(g)  # members.join
    assert_exact(year)
    holder = card_holder(g, employment="在职")
    assert_exact(year)
    status_import.apply_status([{"id_number": holder.person.id_number, "name": holder.person.name,
                                 "card_status": "正常", "employment": "退休", "insurance": "已缴纳",
                                 "status_date": today()}])  # 社保状态导入
    assert_exact(year)
    members.apply_identity(Person.get_by_id(m.person_id), {"id_type": "护照"})  # identity change
    assert_exact(year)
    members.change(Membership.get_by_id(m.id), org=o["direct1"].id)  # the membership moves
    assert_exact(year)
    members.delete(Membership.get_by_id(holder.id), None, "退休")  # 删除
    assert_exact(year)
    sub = submit(g, year, 3)  # 提交
    assert_exact(year)
    enrollment.move(sub, "return", None, reason="人员有误")  # 退回
    assert_exact(year)
    review.restore_returned(Submission.get_by_id(sub.id), admin, "误退回")  # 恢复
    assert_exact(year)
    enrollment.move(Submission.get_by_id(sub.id), "withdraw", None)  # 撤回
    assert_exact(year)
    new = factories.make_org(o["secondary1"], "工会委员会")  # 新建
    assert_exact(year)
    with figures.creating_many():  # 组织导入: counted together at the end
        for parent in (o["secondary1"], o["district2"], o["secondary2"]):
            factories.make_org(parent, "工会委员会")
        assert maintained([year.id], today()) != direct([year.id], today())
    assert_exact(year)
    new.move(o["district2"])  # 移动
    assert_exact(year)
    org_changes.close(Organization.get_by_id(new.id), "测试撤销")  # 撤销
    assert_exact(year)
    street = factories.make_org(o["district1"], "街道总工会")
    under = factories.make_org(street, "工会委员会")
    factories.make_member(under)
    submit(under, year, 2)
    Organization.get_by_id(street.id).move(o["district2"])  # a secondary union with its unions moves
    assert_exact(year)
    org_changes.edit(Organization.get_by_id(under.id), {"level": "secondary"})  # no longer grassroots
    assert_exact(year)
    assert_city_monitor_exact(city, year)
    kept = rows()
    tally.rebuild()
    assert rows() == kept


def test_a_failed_district_batch_releases_its_unions(city, year):
    """逾期未缴费 / 失败 of the centre's batch: its submissions fail, the unions are 未提交 again."""
    batch = review_factories.accepted_batch(city, n=3)
    district = city.orgs["district1"]
    before = board.monitor(district, year).total
    assert (before.submitted, before.enrolled) == (1, 3)
    batches.fail(batch, city.account("centre"), "逾期未缴费")
    after = board.monitor(district, year).total
    assert (after.submitted, after.enrolled) == (0, 0)
    assert_exact(year)


def test_a_return_file_and_a_card_correction_move_the_eligible_count(city, year):
    """开卡回盘导入 gives a 护照 holder a card: counted from the day after it is known, without a write
    that day; 更正卡片状态 注销 takes him out."""
    g, admin = city.orgs["grassroots1"], city.account("admin")
    batch = make_card_batch(g, status=cards.SENT, people=1)
    item = CardBatchItem.get(CardBatchItem.batch == batch.id)
    members.apply_identity(Person.get_by_id(item.person_id), {"id_type": "护照"})
    district = city.orgs["district1"]
    before = board.monitor(district, year).total.eligible
    card_return.apply_return([(item, luhn_card(), today() - timedelta(days=3))], admin)
    assert board.monitor(district, year).total.eligible == before
    with time_machine.travel(today() + timedelta(days=1, hours=12), tick=False):
        assert board.monitor(district, year).total.eligible == before + 1
        assert_exact(year)
    card = Card.get(Card.person == item.person_id)
    cards.set_card_status(card, "注销", admin, "更正")
    with time_machine.travel(today() + timedelta(days=1, hours=12), tick=False):
        assert board.monitor(district, year).total.eligible == before
        assert_exact(year)


def test_a_bulk_import_counts_its_new_members(city, year):
    """批量导入会员 inserts memberships in bulk (models/members/member_import_apply.write)."""
    from models.members import member_import_apply
    g = city.orgs["grassroots1"]
    rows_ = [{"op": "add", "person": {"id_type": "身份证", "id_number": number, "name": f"导入{i}", "gender": "男",
                                      "birth_date": "1990-01-01"},
              "record": {"mobile": f"1370000000{i}"}} for i, number in enumerate(_numbers(3))]
    member_import_apply.write(rows_, g, {"category": ""})
    assert board.monitor(city.orgs["district1"], year).total.eligible == 3
    assert_exact(year)


def _numbers(n: int) -> list:
    from tests.factories.memberfiles import id_number
    return [id_number(900_000 + i) for i in range(n)]


# --- what the monitor reads ----------------------------------------------------------------------------------
def monitor_sql(root, year) -> list:
    with queries() as seen:
        board.monitor(root, year)
    return seen


@pytest.mark.parametrize("root", ["city", "district1", "secondary1"])
def test_the_monitor_reads_only_counters_and_names_in_a_fixed_number_of_statements(city, year, root):
    """Whatever the size of the city: the same statements, none reading memberships, people, cards,
    enrollments, submissions or the closure table."""
    org = city.orgs[root]
    submit(city.orgs["grassroots1"], year, 2)
    before = monitor_sql(org, year)
    for _ in range(3):
        union = factories.make_org(city.orgs["secondary1"], "工会委员会")
        for _ in range(4):
            factories.make_member(union)
        submit(union, year, 2)
    after = monitor_sql(org, year)
    assert len(before) == len(after) == 4
    for sql in after:
        for table in ("membership", "person", "card", "enrollment", "submission", "org_tree", "status_record"):
            assert f'"{table}"' not in sql, (table, sql)


@pytest.mark.parametrize("state", ["", "submitted", "not_submitted"])
@pytest.mark.parametrize("root", ["city", "district1"])
def test_a_page_of_the_unions_behind_a_number_reads_counters_and_its_own_unions(city, year, root, state):
    """A page of the list behind a monitor number (`monitor_unions` and its numbers): no
    memberships, people, cards, enrollments, submissions or registry rows, and as many statements
    with more unions, members and submissions (the organisations above the unions read level by
    level, the page's unions from the one organisation it falls in)."""
    org = city.orgs[root]
    submit(city.orgs["grassroots1"], year, 2)

    def page_sql():
        with queries() as seen:
            items, total, _n = board.monitor_unions(org, year, state, None, 1)
            board.union_numbers(year, [o.id for o in items])
        return seen, total
    before, total = page_sql()
    for _ in range(3):
        union = factories.make_org(city.orgs["secondary1"], "工会委员会")
        for _ in range(4):
            factories.make_member(union)
        submit(union, year, 2)
    after, more = page_sql()
    assert len(after) == len(before) and more == total + (0 if state == "not_submitted" else 3)
    for sql in after:
        for table in ("membership", "person", "card", "enrollment", "submission", "status_record"):
            assert f'"{table}"' not in sql, (table, sql)


@pytest.mark.parametrize("role", ["district", "centre", "city"])
def test_the_monitor_request_runs_as_many_statements_with_more_members(as_role, city, year, role):
    """A district's monitor, and the city's (the centre, 市总工会)."""
    client = as_role(role)
    url = f"/enroll-stats/monitor?year={year.year}"

    def count():
        client.get(url)  # warm: the session, the account
        with queries() as seen:
            assert client.get(url).status_code == 200
        return len(seen)
    small = count()
    for _ in range(2):
        union = factories.make_org(city.orgs["secondary1"], "工会委员会")
        for _ in range(5):
            factories.make_member(union)
        submit(union, year, 3)
    assert count() == small


def test_flask_db_recount_repairs_the_counters(app, city, year):
    """The admin's quick fix after rows were written around the model (a bulk load, a hand edit)."""
    g = city.orgs["grassroots1"]
    submit(g, year, 2)
    factories.make_member(g)
    UnionTally.update(unions=UnionTally.unions + 5).execute()
    EligibleTally.delete().execute()
    assert maintained([year.id], today()) != direct([year.id], today())
    result = app.test_cli_runner().invoke(args=["db", "recount"])
    assert result.exit_code == 0 and "已重新统计" in result.output
    assert_exact(year)


def test_a_roster_sync_a_batch_delete_and_a_transfer_count_once_for_all_their_rows(as_role, city, year):
    """同步会员 (class B joins, class C transfer requests) and 批量删除 watch all their people at once;
    会员转出审核 通过 moves the member between unions."""
    from models.members import member_review
    from models.members.people import TransferRequest
    from tests.test_member_sync import compare_rows, former_member, person
    union, other = city.orgs["grassroots1"], city.orgs["direct1"]
    b1 = former_member(other, city.account("grassroots", 2), "deleted")
    b2 = person("从未入会")
    c = factories.make_member(other)
    job = compare_rows(as_role("grassroots"), [[b1.name, b1.id_number], [b2.name, b2.id_number],
                                               [c.person.name, c.person.id_number]])
    assert (job.result_data["counts"]["B"], job.result_data["counts"]["C"]) == (2, 1)
    assert_exact(year)
    batch = [factories.make_member(union) for _ in range(3)]
    members.delete_many([Membership.get_by_id(m.id) for m in batch], None, "退休")
    assert_exact(year)
    request = TransferRequest.get(TransferRequest.job == job.id)
    member_review.decide_transfer(request, "approve", city.account("grassroots", 2))
    assert Membership.get_by_id(c.id).status != "正常"
    assert_exact(year)


def test_writers_at_once_keep_the_counters_exact(committed, city):
    """Two submissions of the same union, one of another union and two new members, each in its own
    transaction at the same moment: every one commits (no deadlock on the counters) and no change
    is lost or counted twice (the year recount runs under the counters' lock)."""
    from tests.helpers import race
    year = review_factories.ready_year(city)
    o = city.orgs
    people = [[factories.make_member(o[k]).person for _ in range(2)] for k in ("grassroots1", "grassroots1", "direct2")]
    calls = [lambda: submit(o["grassroots1"], year, people=people[0]),
             lambda: submit(o["grassroots1"], year, people=people[1]),
             lambda: submit(o["direct2"], year, people=people[2]),
             lambda: factories.make_member(o["grassroots2"]),
             lambda: factories.make_member(o["direct1"])]
    assert race(*calls) == ["ok"] * 5
    assert board.monitor(o["district1"], year).total.enrolled == 4
    assert_exact(year)
