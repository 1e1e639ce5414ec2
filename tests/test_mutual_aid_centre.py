"""参保批次查询 and 互助保障统计 (issue 18 item 10): the centre's list of every unit's mutual-aid
batches (filters 保障年度 / 参保类型 / 状态 / 单位名称·参保编码 / 区, counts per state that open their
batches, a constant number of queries whatever the page's rows), the district and secondary unions
seeing their subtree's units only, 市总工会 looking; the statistics of a year (units, people,
premium; by state, by district with 未建会企业, by item) equal to direct counts, each count opening
its units / batches / people, and its Excel."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from models.mutual_aid import aid_stats
from models.mutual_aid.batches import (
    ATTACH_REVIEW,
    AWAIT_VOUCHER,
    BATCH_STATES,
    IN_SERVICE,
    INSURED,
    RETIRED,
    TO_CHECK,
    UNKNOWN,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.premiums import BatchItem
from models.mutual_aid.years import INSTANT
from models.rules.fees import yuan
from models.rules.mutual_fees import premium
from models.rules.mutual_roster import zhibao
from tests.factories.mutual_aid import aid_year, batch_in, code_in_org, enroll_people
from tests.helpers import queries, soup

BATCHES = "/mutual-aid/centre/batches"
STATS = "/mutual-aid/stats/"


@pytest.fixture
def spread(city):
    """2026: unit 1 (district 1) 集中 参保成功 3 people + 即时 缴费凭证待上传 1; unit 2 (district 2)
    集中 参保成功 2; unit 3 (no union) 集中 参保成功 1; unit 4 (district 1, a street's union) 清册待校验 2;
    2025: unit 1 参保成功 5 (another year)."""
    year, last = aid_year(2026), aid_year(2025)
    one = code_in_org(city, city.orgs["grassroots1"], 1)
    two = code_in_org(city, city.orgs["direct2"], 2)
    three = code_in_org(city, city.orgs["direct1"], 3, no_union=True)
    four = code_in_org(city, city.orgs["direct1"], 4)
    b = {
        "one": batch_in(one, INSURED, year=year), "one_instant": batch_in(one, AWAIT_VOUCHER, INSTANT, year=year),
        "two": batch_in(two, INSURED, year=year), "three": batch_in(three, INSURED, year=year),
        "four": batch_in(four, TO_CHECK, year=year), "old": batch_in(one, INSURED, year=last),
    }
    n = 0
    for key, size in (("one", 3), ("one_instant", 1), ("two", 2), ("three", 1), ("four", 2), ("old", 5)):
        enroll_people(b[key], range(n, n + size), premium=18000)
        n += size
    RosterEntry.create(batch=b["two"].id, year=year.id, id_number="310101199001011234", name="已移除", gender="男",
                       birth_date=date(1990, 1, 1), active=False)  # not counted anywhere
    return {"year": year, "codes": (one, two, three, four), "batches": b}


def rows(page) -> list:
    return [tr["data-batch"] for tr in page.select("#batch-list tbody tr[data-batch]")]


def total_of(page) -> int:
    return int(page.select_one(".pager-summary").get_text().split("总共")[1].split("条")[0])


def direct(**where) -> int:
    query = AidBatch.select().where(AidBatch.year == aid_year(2026).id)
    for name, value in where.items():
        query = query.where(getattr(AidBatch, name) == value)
    return query.count()


def test_the_centre_lists_every_units_batches_with_the_columns_and_counts_per_state(spread, as_role):
    client = as_role("centre")
    page = soup(client.get(BATCHES))
    assert [th.get_text() for th in page.select("#batch-list thead th")] == [
        "参保编码", "单位名称", "保障年度", "参保类型", "人数", "保费合计", "状态", "更新时间", "操作"]
    b = spread["batches"]
    assert sorted(rows(page)) == sorted(str(b[k].id) for k in ("one", "one_instant", "two", "three", "four"))
    row = page.select_one(f'tr[data-batch="{b["one"].id}"]')
    cells = [td.get_text(strip=True) for td in row.select("td")]
    one = spread["codes"][0]
    assert cells[:8] == [one.code, one.unit_name, "2026年度", "集中参保", "3", "540元", INSURED, cells[7]]
    assert row.select_one("a")["href"] == f"/mutual-aid/batches/{b['one'].id}"
    # one inactive person of unit 2 is not counted
    assert page.select_one(f'tr[data-batch="{b["two"].id}"] td:nth-of-type(5)').get_text() == "2"
    # counts per state equal direct counts, and each opens exactly its batches
    for link in page.select("#state-counts a[data-state]"):
        state = link["data-state"]
        assert link.get_text() == f"{state}（{direct(status=state)}）"
        opened = soup(client.get(link["href"]))
        assert total_of(opened) == direct(status=state)
        assert {r.select("td")[6].get_text() for r in opened.select("#batch-list tbody tr[data-batch]")} <= {state}
    assert page.select_one("#state-counts a").get_text() == f"全部（{direct()}）"


def test_the_filters_narrow_the_list_and_the_counts(spread, as_role, city):
    client = as_role("centre")
    b = spread["batches"]
    one, two, three, _four = spread["codes"]
    assert rows(soup(client.get(f"{BATCHES}?kind=即时参保"))) == [str(b["one_instant"].id)]
    assert rows(soup(client.get(f"{BATCHES}?year=2025"))) == [str(b["old"].id)]
    assert sorted(rows(soup(client.get(f"{BATCHES}?unit={one.code}")))) == sorted(
        [str(b["one"].id), str(b["one_instant"].id)])
    assert rows(soup(client.get(f"{BATCHES}?unit=互助测试2"))) == [str(b["two"].id)]
    district1 = city.orgs["district1"].id
    page = soup(client.get(f"{BATCHES}?district={district1}"))
    assert sorted(rows(page)) == sorted(str(b[k].id) for k in ("one", "one_instant", "four"))
    assert page.select_one(f'#state-counts a[data-state="{INSURED}"]').get_text() == f"{INSURED}（1）"
    assert rows(soup(client.get(f"{BATCHES}?district=none"))) == [str(b["three"].id)]
    assert rows(soup(client.get(f"{BATCHES}?district=none&status={TO_CHECK}"))) == []
    # nonsense filters count as absent, never a 5xx
    for query in ("year=abc", "year=99999999999999", "status=不存在", "district=-1", "district=99999999999999999",
                  "kind=x", "page=99999999999"):
        assert client.get(f"{BATCHES}?{query}").status_code == 200, query


def test_a_district_and_a_street_union_see_only_their_subtrees_units_and_the_city_looks(spread, as_role):
    b = spread["batches"]
    page = soup(as_role("district", 1).get(BATCHES))  # district 2: unit 2 only
    assert rows(page) == [str(b["two"].id)]
    assert "未建会企业" not in page.select_one("select[name=district]").get_text()
    assert page.select_one("#state-counts a").get_text() == "全部（1）"
    # asking for another district's units shows nothing of them
    other = soup(as_role("district", 1).get(f"{BATCHES}?district={b['one'].org.district_id}"))
    assert rows(other) == []
    street = soup(as_role("secondary").get(BATCHES))  # street 1: unit 1's union is under it
    assert sorted(rows(street)) == sorted([str(b["one"].id), str(b["one_instant"].id)])
    city_page = soup(as_role("city").get(BATCHES))
    assert len(rows(city_page)) == 5
    assert as_role("grassroots").get(BATCHES).status_code == 403
    menu = soup(as_role("district").get(BATCHES)).get_text()
    assert "参保批次查询" in menu and "互助保障统计" not in menu


def test_the_list_runs_the_same_number_of_queries_whatever_its_rows(city, as_role):
    year = aid_year(2026)
    client = as_role("centre")
    code = code_in_org(city, city.orgs["grassroots1"], 1)
    enroll_people(batch_in(code, INSURED, year=year), range(3))

    def count() -> int:
        with queries() as seen:
            assert client.get(BATCHES).status_code == 200
        return len(seen)
    few = count()
    for n in range(2, 16):
        other = code_in_org(city, city.orgs["direct1"], n)
        enroll_people(batch_in(other, ATTACH_REVIEW, year=year), range(100 * n, 100 * n + 2))
    assert count() == few


def test_statistics_equal_direct_counts_and_open_their_units_batches_and_people(spread, as_role, city):
    client = as_role("centre")
    year = spread["year"]
    page = soup(client.get(STATS))
    insured = AidBatch.select().where((AidBatch.year == year.id) & (AidBatch.status == INSURED))
    units = len({x.code_id for x in insured})
    people = RosterEntry.select().where(RosterEntry.batch.in_(insured) & RosterEntry.active).count()
    fen = sum(x.premium_total for x in insured)
    assert (units, people, fen) == (3, 6, 6 * 18000)
    assert page.select_one("#total-units").get_text() == "3"
    assert page.select_one("#total-people").get_text() == "6"
    assert page.select_one("#total-premium").get_text() == "1080元"
    assert total_of(soup(client.get(page.select_one("#total-units")["href"]))) == 3
    assert total_of(soup(client.get(page.select_one("#total-people")["href"]))) == 6
    assert total_of(soup(client.get(page.select_one("#total-premium")["href"]))) == 3
    for state in BATCH_STATES:
        row = page.select_one(f'#stats-states tr[data-state="{state}"]')
        batches = AidBatch.select().where((AidBatch.year == year.id) & (AidBatch.status == state))
        expected = (batches.count(), len({x.code_id for x in batches}),
                    RosterEntry.select().where(RosterEntry.batch.in_(batches) & RosterEntry.active).count())
        shown = tuple(int(row.select_one(f"a.{cls}").get_text()) for cls in ("n-batches", "n-units", "n-people"))
        assert shown == expected, state
        opened = tuple(total_of(soup(client.get(row.select_one(f"a.{cls}")["href"])))
                       for cls in ("n-batches", "n-units", "n-people"))
        assert opened == expected, state
    # by district: 1 unit / 3 people in district 1, 1 / 2 in district 2, 1 / 1 without a union
    expected = {str(city.orgs["district1"].id): (1, 3, 54000), str(city.orgs["district2"].id): (1, 2, 36000),
                "none": (1, 1, 18000)}
    for key, (n_units, n_people, n_fen) in expected.items():
        row = page.select_one(f'#stats-districts tr[data-district="{key}"]')
        assert row.select_one("a.n-units").get_text() == str(n_units)
        assert row.select_one("a.n-people").get_text() == str(n_people)
        assert row.select_one("a.n-premium").get_text() == f"{n_fen // 100}元"
        assert total_of(soup(client.get(row.select_one("a.n-units")["href"]))) == n_units
        assert total_of(soup(client.get(row.select_one("a.n-people")["href"]))) == n_people
        assert total_of(soup(client.get(row.select_one("a.n-premium")["href"]))) == n_units
    assert page.select_one('#stats-districts tr[data-district="none"] td').get_text() == "未建会企业"
    people_page = soup(client.get(page.select_one("#total-people")["href"]))
    assert "**** " in people_page.select_one("#rows tbody td:nth-of-type(3)").get_text()  # masked
    # the items are not stored yet: every insured person is 保障项目未知
    assert "6 名参保人员" in page.select_one("#items-unknown").get_text()


def test_premium_by_item_follows_the_rules_and_adds_up_to_the_peoples_premiums(city, as_role):
    """A0 only for 职保 people; the A0+B0+C0 discount at full price only; half prices for an
    instant batch starting in the first half of the calendar year."""
    year = aid_year(2026)
    central = batch_in(code_in_org(city, city.orgs["grassroots1"], 1), INSURED, year=year)
    instant = batch_in(code_in_org(city, city.orgs["direct2"], 2), INSURED, INSTANT, year=year)
    AidBatch.update(submitted_at=datetime(2027, 2, 1, 10, 0)).where(AidBatch.id == instant.id).execute()
    chosen = {central.id: ("A0", "B0", "C0", "A1"), instant.id: ("A0", "C1")}
    people = [(central, IN_SERVICE, False), (central, IN_SERVICE, False), (central, UNKNOWN, False),
              (central, UNKNOWN, True), (central, RETIRED, True), (instant, IN_SERVICE, False),
              (instant, UNKNOWN, False)]
    expected_total = 0
    for i, (batch, employment, insured) in enumerate(people):
        half = batch.kind == INSTANT
        fen = premium(chosen[batch.id], zhibao(employment, insured), half).total
        expected_total += fen
        enroll_people(batch, [i], employment=employment, has_social_insurance=insured, premium=fen)
    for batch in (central, instant):
        for code in chosen[batch.id]:
            BatchItem.create(batch=batch.id, code=code)
    table = aid_stats.item_table(year)  # the items ticked (BatchItem)
    assert table.unknown == 0
    # A0: the 3 职保 people of the central batch (2 在职, 1 "-" with 社保) + 1 在职 of the instant one
    assert table.people["A0"] == 4 and table.premium["A0"] == 3 * 12000 + 6000
    assert table.people["A1"] == 5 and table.premium["A1"] == 5 * 13500
    assert table.people["C1"] == 2 and table.premium["C1"] == 2 * 2000
    assert table.discount == -3 * 1000  # A0+B0+C0 at full price: the three 职保 people of the central batch
    assert table.total == expected_total == sum(e.premium for e in RosterEntry.select())
    # 人数 by item opens its people (the page shows the same numbers)
    client = as_role("centre")
    page = soup(client.get(STATS))
    for code, n in (("A0", 4), ("A1", 5), ("B0", 5), ("C1", 2), ("C3", 0)):
        link = page.select_one(f'#stats-items tr[data-item="{code}"] a.n-people')
        assert link.get_text() == str(n), code
        assert total_of(soup(client.get(link["href"]))) == n, code
    assert page.select_one('#stats-items tr[data-item="total"] td:last-child').get_text() == \
        f"{yuan(expected_total)}元"


def test_the_excel_has_the_pages_figures(spread, as_role, city):
    response = as_role("city").get(f"{STATS}stats.xlsx?year=2026")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(max_row=4, values_only=True)}
    assert (summary["参保单位数"], summary["参保人数"], Decimal(str(summary["保费合计(元)"]))) == (3, 6, Decimal(1080))
    states = {r[0]: r[1:4] for r in book["汇总"].iter_rows(min_row=7, values_only=True)}
    assert states[INSURED] == (3, 3, 6) and states[AWAIT_VOUCHER] == (1, 1, 1) and states[TO_CHECK] == (1, 1, 2)
    districts = {r[0]: r[1:] for r in book["按区统计"].iter_rows(min_row=2, values_only=True)}
    assert districts["未建会企业"][:2] == (1, 1)
    assert districts[city.orgs["district1"].name][:2] == (1, 3)
    assert districts["合计"][:2] == (3, 6)
    assert [r[0] for r in book["按保障项目统计"].iter_rows(min_row=2, max_row=13, values_only=True)][:3] == [
        "A0", "A1", "A2"]


def test_statistics_are_the_centres_and_the_citys_and_ask_for_a_year_that_exists(spread, as_role, city):
    assert as_role("district").get(STATS).status_code == 403
    assert as_role("grassroots").get(f"{STATS}people").status_code == 403
    refused = as_role("centre").get(f"{STATS}?year=1999")
    assert refused.status_code == 404 and "1999年度互助保障尚未设置" in refused.get_data(as_text=True)
    for query in ("year=abc", "status=x&district=abc&item=Z9", "district=99999999999999", "item=a0"):
        assert as_role("centre").get(f"{STATS}people?{query}").status_code == 200, query
        assert as_role("centre").get(f"{STATS}units?{query}").status_code == 200, query


def test_without_a_year_both_pages_say_so(as_role):
    for url in (BATCHES, STATS):
        page = soup(as_role("centre").get(url))
        assert "互助保障年度尚未设置" in page.select_one("#no-year").get_text()
    assert InsuranceCode.select().count() == 0
