"""集中参保统计 (issue 8 items 6, 7, 9): the district's 集中参保统计表, the 集中参保实时监控画面 and the
city-wide views — every number compared with a direct count or sum of the Enrollment rows, the
seed figures (3 people in type A → 78 / 39 / 39 / 0 元; 36 → 936 / 468 / 468 / 0), formula
escaping, scope between two districts and the roles."""

import re
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from models import figures
from models.enroll import enrollment, plans
from models.enroll.enrollment import CARD_CHANNEL, CENTRAL, SOCIAL_CHANNEL, Enrollment, Submission
from models.enroll.plans import Credit
from models.members.people import Person
from models.orgs import org_changes
from models.orgs.organizations import Organization, OrgTree
from models.stats import monitor as board
from tests import factories
from tests.factories.enroll import IN_WINDOW, card_holder
from tests.helpers import soup, statements

ON = date(2026, 11, 20)
SEASON = datetime(2026, 11, 20, 10, 0)
Y = "?year=2027"
MONEY = ("保障费用(元)", "市总统一划拨(元)", "区局/各级工会缴费(元)", "基层单位缴费(元)")


def text(response):
    return " ".join(soup(response).get_text(" ").split())


def sheet_rows(response) -> list[dict]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(BytesIO(response.data))
    values = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def submit(org, year, n, channel=CARD_CHANNEL, holders=True):
    people = [(card_holder(org) if holders else factories.make_member(org)).person for _ in range(n)]
    type_a = plans.types_of(year)[0]
    return enrollment.submit(org, year, channel, CENTRAL, type_a, people, None, ON)


@pytest.fixture
def season(city):
    """District 1: 甲 (under the street union) 3 people; 乙 (directly under the district) 36 people,
    already in a district batch; 丙 1 member-card + 2 social-card; "=cmd()" returned; the 临时工会
    nothing. District 2: 2 people."""
    year = plans.create_year(2027)
    for district in ("district1", "district2"):
        for t in plans.types_of(year):
            plans.save_split(city.orgs[district], t, f"{(t.full_fee - t.subsidy_full) / 100:g}", "0",
                             city.account("district", 0 if district == "district1" else 1), at=IN_WINDOW)
    o = city.orgs
    bing = factories.make_org(o["secondary1"], name="测试区1丙公司工会委员会")
    evil = factories.make_org(o["secondary1"], name="=cmd()")
    subs = {"甲": submit(o["grassroots1"], year, 3), "乙": submit(o["direct1"], year, 36),
            "丙卡": submit(bing, year, 1), "丙社": submit(bing, year, 2, SOCIAL_CHANNEL, holders=False),
            "evil": submit(evil, year, 2), "区2": submit(o["grassroots2"], year, 2)}
    enrollment.move(subs["乙"], "complete", None)
    Submission.update(district_batch="CB202612260001").where(Submission.id == subs["乙"].id).execute()
    enrollment.move(subs["evil"], "return", None, reason="人员有误")
    card_holder(o["grassroots1"], employment="退休")  # not eligible
    card_holder(o["grassroots1"])  # eligible, not yet enrolled
    factories.make_member(o["grassroots1"])  # no card but 身份证: eligible (social-security channel)
    passport = factories.make_member(o["grassroots1"])  # neither card nor 身份证: not eligible
    with figures.people([passport.person_id]):  # as an identity change writes it (members.apply_identity)
        Person.update(id_type="护照").where(Person.id == passport.person_id).execute()
    return {"year": year, "bing": bing, "evil": evil, "subs": subs}


def direct_eligible(org_ids) -> int:
    """可参保 counted person by person: 正常 members holding a 正常 card or with ID type 身份证,
    not 退休 / 死亡 in the registry."""
    from models.cards.cards import Card
    from models.enroll.enrollment import StatusRecord
    from models.members.people import Membership, Person
    n = 0
    for m in Membership.select().where(Membership.org.in_(org_ids) & (Membership.status == "正常")):
        person = Person.get_by_id(m.person_id)
        has_card = Card.select().where((Card.person == person.id) & (Card.status == "正常")).exists()
        status = StatusRecord.get_or_none(StatusRecord.id_number == person.id_number)
        if (has_card or person.id_type == "身份证") and not (status and status.employment in ("退休", "死亡")):
            n += 1
    return n


def grassroots_under(root) -> list:
    return list(Organization.select().join(OrgTree, on=(OrgTree.descendant == Organization.id))
                .where((OrgTree.ancestor == root.id) & (Organization.level == "grassroots")
                       & (Organization.status == "正常")))


def direct_sums(org_ids, year) -> dict:
    """Straight from the Enrollment rows: active centralized people and fee parts (fen)."""
    rows = list(Enrollment.select().where(Enrollment.org.in_(org_ids) & (Enrollment.year == year.id)
                                          & Enrollment.active & (Enrollment.mode == CENTRAL)))
    return {"card": sum(e.channel == CARD_CHANNEL for e in rows),
            "social": sum(e.channel == SOCIAL_CHANNEL for e in rows),
            "fee": sum(e.fee for e in rows), "city": sum(e.city for e in rows),
            "district": sum(e.district for e in rows), "grassroots": sum(e.grassroots for e in rows)}


def yuan_cell(fen):
    return Decimal(fen) / 100


# --- 下载集中参保统计表 ----------------------------------------------------------------------------------
def test_the_district_excel_has_one_row_per_union_equal_to_direct_sums(as_role, city, season):
    year = season["year"]
    rows = sheet_rows(as_role("district").get("/enroll-stats/district.xlsx" + Y))
    *unions, total = rows
    expected = grassroots_under(city.orgs["district1"])
    assert sorted(r["单位名称"] for r in unions) == sorted(
        "'" + o.name if o.name.startswith("=") else o.name for o in expected)
    for org in expected:
        row = next(r for r in unions if r["单位名称"].lstrip("'") == org.name)
        sums = direct_sums([org.id], year)
        assert (row["会员卡参保人数"], row["社保卡参保人数"], row["合计人数"]) == (
            sums["card"], sums["social"], sums["card"] + sums["social"]), org.name
        assert [Decimal(str(row[c])) for c in MONEY] == [
            yuan_cell(sums[k]) for k in ("fee", "city", "district", "grassroots")], org.name
        assert row["上级工会"] == Organization.get_by_id(org.parent_id).name
    everything = direct_sums([o.id for o in expected], year)
    assert total["单位名称"] == "合计"
    assert (total["会员卡参保人数"], total["社保卡参保人数"]) == (everything["card"], everything["social"])
    assert Decimal(str(total["保障费用(元)"])) == yuan_cell(everything["fee"])


def test_the_seed_figures_statuses_and_batch_numbers(as_role, city, season):
    rows = {r["单位名称"]: r for r in sheet_rows(as_role("district").get("/enroll-stats/district.xlsx" + Y))}
    money = MONEY
    jia, yi = rows["测试区1街道甲公司工会委员会"], rows["测试区1乙公司工会委员会"]
    bing = rows["测试区1丙公司工会委员会"]
    assert [jia[c] for c in money] == [78, 39, 39, 0]
    assert [yi[c] for c in money] == [936, 468, 468, 0]
    assert (bing["会员卡参保人数"], bing["社保卡参保人数"], bing["合计人数"], bing["保障费用(元)"]) == (1, 2, 3, 78)
    assert (jia["状态"], jia["批次编号"], jia["保障类型"]) == ("区局确认中", None, "A类会员专享基本保障")
    assert (yi["状态"], yi["批次编号"]) == ("已完成", "CB202612260001")
    assert rows["测试区1总工会临时工会"]["状态"] == "未提交" and rows["测试区1总工会临时工会"]["合计人数"] == 0
    sub = season["subs"]["甲"]
    assert jia["提交时间"] == Submission.get_by_id(sub.id).submitted_at  # a date cell, not text
    sheet = load_workbook(BytesIO(as_role("district").get("/enroll-stats/district.xlsx" + Y).data)).worksheets[0]
    column = [c.value for c in sheet[1]].index("提交时间")
    submitted = [row[column] for row in sheet.iter_rows(min_row=2) if row[column].value]
    assert submitted and all(c.number_format == "yyyy-mm-dd hh:mm" and c.is_date for c in submitted)


def test_a_union_named_like_a_formula_is_escaped(as_role, season):
    response = as_role("district").get("/enroll-stats/district.xlsx" + Y)
    book = load_workbook(BytesIO(response.data))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    evil = next(r for r in sheet_rows(response) if r["单位名称"] == "'=cmd()")
    assert (evil["状态"], evil["合计人数"]) == ("退回", 0)


def test_a_secondary_union_gets_its_subtree_and_a_district_not_the_other_district(as_role, city, season):
    secondary = {r["单位名称"] for r in sheet_rows(as_role("secondary").get("/enroll-stats/district.xlsx" + Y))}
    assert secondary == {"测试区1街道甲公司工会委员会", "测试区1丙公司工会委员会", "'=cmd()", "合计"}
    other = sheet_rows(as_role("district", 1).get("/enroll-stats/district.xlsx" + Y))
    assert {r["单位名称"] for r in other} == {o.name for o in grassroots_under(city.orgs["district2"])} | {"合计"}
    assert other[-1]["合计人数"] == 2


def test_without_a_year_parameter_the_year_being_enrolled(as_role, season):
    with time_machine.travel(SEASON, tick=False):
        response = as_role("district").get("/enroll-stats/district.xlsx")
        assert "2027" in response.headers["Content-Disposition"]
        page = as_role("district").get("/enroll-stats/")
    assert soup(page).find(id="stats-year-shown").get_text().startswith("保障年度：2027年")
    assert as_role("district").get("/enroll-stats/district.xlsx?year=1999").status_code == 404


# --- 集中参保实时监控画面 ---------------------------------------------------------------------------------
def shown_counts(tag) -> dict:
    return {a["data-count"]: int(a.get_text()) for a in tag.find_all(attrs={"data-count": True})}


def test_monitor_counts_equal_direct_counts(as_role, city, season):
    year = season["year"]
    page = soup(as_role("district").get("/enroll-stats/monitor" + Y))
    table = page.find(id="monitor-groups")
    by_group = {int(tr["data-group"]): shown_counts(tr) for tr in table.find("tbody").find_all("tr")}
    street, district = city.orgs["secondary1"], city.orgs["district1"]
    expected_groups = {street.id: grassroots_under(street),
                       0: [o for o in grassroots_under(district) if o.parent_id == district.id]}
    assert set(by_group) == set(expected_groups) | {-1}
    for key, unions in expected_groups.items():
        ids = [o.id for o in unions]
        active = {s.org_id for s in Submission.select().where(
            Submission.org.in_(ids) & Submission.status.in_(enrollment.ACTIVE) & (Submission.mode == CENTRAL))}
        returned = {s.org_id for s in Submission.select().where(Submission.org.in_(ids)
                                                                 & (Submission.status == "退回"))}
        eligible = direct_eligible(ids)
        enrolled = Enrollment.select().where(Enrollment.org.in_(ids) & Enrollment.active & (Enrollment.year == year.id)
                                             & (Enrollment.mode == CENTRAL)).count()
        assert by_group[key] == {"unions": len(unions), "submitted": len(active), "returned": len(returned - active),
                                 "not_submitted": len(unions) - len(active) - len(returned - active),
                                 "enrolled": enrolled, "eligible": eligible}, key
    assert by_group[street.id] == {"unions": 3, "submitted": 2, "returned": 1, "not_submitted": 0, "enrolled": 6,
                                   "eligible": 10}  # 7 card holders + 3 身份证 members without a card
    totals = shown_counts(page.find(id="monitor-totals"))
    assert totals == by_group[-1]
    assert totals["enrolled"] == direct_sums([o.id for o in grassroots_under(district)], year)["card"] + 2


def listed_unions(client, href, htmx=False) -> list:
    """Every row of a monitor list, page after page through its 下一页 links — without JavaScript the
    links themselves, with it (`htmx`) their hx-get as a fragment; each page's rows checked against
    its summary (15 a page, the last one the rest)."""
    rows, url, number = [], href, 0
    while url:
        number += 1
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200, url
        part = soup(response).find(id="rows")
        page_rows = part.find("tbody").find_all("tr", attrs={"data-org": True})
        summary = part.find(class_="pager-summary").get_text()
        first, last, total = (int(n) for n in re.findall(r"\d+", summary))
        start = (number - 1) * 15
        assert (first, last) == ((start + 1, start + len(page_rows)) if page_rows else (0, 0))
        assert len(page_rows) == (15 if last < total else total - (number - 1) * 15), url
        rows += page_rows
        link = part.find("a", string="下一页")
        url = (link["hx-get"] if htmx else link["href"]) if link else None
    assert len(rows) == total
    return rows


def assert_numbers_open_their_unions(client, page, htmx=False):
    """Every number of a monitor page (its groups and totals: 3 groups × 6 + 6) opens a list whose
    rows, over all its pages, add up to it."""
    links = page.find(id="monitor-groups").find_all("a") + page.find(id="monitor-totals").find_all("a")
    assert len(links) == 3 * 6 + 6
    for a in links:
        count = a.get("data-count") or a.find(attrs={"data-count": True})["data-count"]
        number = int(a.get_text(" ").split()[-1])
        rows = listed_unions(client, a["href"], htmx)
        assert len({tr["data-org"] for tr in rows}) == len(rows), a["href"]  # no union twice
        if count in ("enrolled", "eligible"):
            column = 4 if count == "enrolled" else 5
            assert sum(int(tr.find_all("td")[column].get_text()) for tr in rows) == number, a["href"]
        else:
            assert len(rows) == number, a["href"]


def test_every_monitor_number_opens_the_unions_behind_it(as_role, season):
    client = as_role("district")
    page = soup(client.get("/enroll-stats/monitor" + Y))
    assert_numbers_open_their_unions(client, page)


def test_the_monitor_draws_svg_bars_and_refreshes_itself(as_role, city, season):
    client = as_role("district")
    page = soup(client.get("/enroll-stats/monitor" + Y))
    svg = page.find("svg")
    street = svg.find_all("rect", class_="bar-submitted")
    assert street and all(float(r["width"]) > 0 for r in street)
    assert svg.find("rect", class_="bar-returned") is not None
    enrolled = {r.find("title").get_text() for r in svg.find_all("rect", class_="bar-enrolled")}
    assert "测试区1街道总工会 集中参保人数 6" in enrolled
    assert not page.find_all(style=True) and not page.find_all("script", src=False)
    meta = page.find("noscript").find("meta", attrs={"http-equiv": "refresh"})
    assert meta["content"] == "30"
    poll = page.find(id="monitor")
    assert poll["hx-trigger"] == "every 30s" and poll["hx-get"].startswith("/enroll-stats/monitor")
    fragment = client.get("/enroll-stats/monitor" + Y, headers={"HX-Request": "true"})
    part = soup(fragment)
    assert part.find("html") is None and part.find(id="monitor")["hx-trigger"] == "every 30s"
    assert shown_counts(part.find(id="monitor-totals")) == shown_counts(page.find(id="monitor-totals"))


def test_the_monitor_pauses_and_resumes_its_refreshing(as_role, season):
    """暂停自动刷新 (WCAG 2.2.2) is a link: ?pause=1 leaves out the htmx polling and the no-JS reload,
    says so, keeps the pause when another year is asked for, and 恢复自动刷新 brings both back."""
    client = as_role("district")
    page = soup(client.get("/enroll-stats/monitor" + Y))
    pause = page.find("a", string="暂停自动刷新")
    assert pause is not None and "pause=1" in pause["href"]
    paused = soup(client.get(pause["href"]))
    assert paused.find("noscript") is None or paused.find("meta", attrs={"http-equiv": "refresh"}) is None
    assert not paused.find(id="monitor").has_attr("hx-trigger")
    assert "自动刷新已暂停" in paused.find(id="monitor-time").get_text()
    assert paused.find("form", class_="filters").find("input", attrs={"name": "pause"})["value"] == "1"
    assert shown_counts(paused.find(id="monitor-totals")) == shown_counts(page.find(id="monitor-totals"))
    resume = paused.find("a", string="恢复自动刷新")
    again = soup(client.get(resume["href"]))
    assert again.find(id="monitor")["hx-trigger"] == "every 30s"
    assert again.find("meta", attrs={"http-equiv": "refresh"})["content"] == "30"


def test_the_monitor_is_scoped_to_the_district(as_role, city, season):
    other = as_role("district", 1)
    page = soup(other.get("/enroll-stats/monitor" + Y))
    names = [tr.find("td").get_text() for tr in page.find(id="monitor-groups").find("tbody").find_all("tr")]
    assert "测试区1街道总工会" not in names and "测试区2街道总工会" in names
    assert shown_counts(page.find(id="monitor-totals"))["enrolled"] == 2
    foreign = other.get(f"/enroll-stats/monitor/unions{Y}&group={city.orgs['secondary1'].id}")
    assert foreign.status_code == 404
    listed = text(other.get("/enroll-stats/monitor/unions" + Y))
    assert "测试区1" not in listed and "测试区2乙公司工会委员会" in listed
    fragment = soup(other.get("/enroll-stats/monitor/unions" + Y + "&state=submitted", headers={"HX-Request": "true"}))
    assert fragment.find("html") is None
    assert [tr.find("td").get_text() for tr in fragment.find(id="rows").find("tbody").find_all("tr")] == [
        "测试区2街道甲公司工会委员会"]
    secondary = soup(as_role("secondary").get("/enroll-stats/monitor" + Y))
    assert shown_counts(secondary.find(id="monitor-totals"))["unions"] == 3


@pytest.mark.parametrize("role", ["grassroots", "centre", "city"])
def test_the_district_excel_refuses_other_roles(as_role, season, role):
    assert as_role(role).get("/enroll-stats/district.xlsx" + Y).status_code == 403


def test_a_grassroots_union_has_no_monitor(as_role, season):
    client = as_role("grassroots")
    for url in ("/enroll-stats/monitor", "/enroll-stats/monitor/unions"):
        assert client.get(url + Y).status_code == 403, url


# --- 集中参保实时监控画面 of the city (issue 19) ----------------------------------------------------------
def direct_group(unions, year) -> dict:
    """A monitor group's numbers counted from the rows of its open grassroots unions."""
    ids = [o.id for o in unions]
    active = {s.org_id for s in Submission.select().where(
        Submission.org.in_(ids) & Submission.status.in_(enrollment.ACTIVE) & (Submission.mode == CENTRAL))}
    returned = {s.org_id for s in Submission.select().where(Submission.org.in_(ids) & (Submission.status == "退回"))}
    enrolled = Enrollment.select().where(Enrollment.org.in_(ids) & Enrollment.active & (Enrollment.year == year.id)
                                         & (Enrollment.mode == CENTRAL)).count()
    submitted, sent_back = len(active), len(returned - active)
    return {"unions": len(ids), "submitted": submitted, "returned": sent_back,
            "not_submitted": len(ids) - submitted - sent_back, "enrolled": enrolled, "eligible": direct_eligible(ids)}


@pytest.mark.parametrize("role", ["centre", "city", "admin"])
def test_the_city_monitor_has_one_group_per_district_equal_to_direct_counts(as_role, city, season, role):
    """The centre, 市总工会 and the admin see the whole city, one group per 区局（产业）工会."""
    year = season["year"]
    factories.make_org(city.orgs["secondary2"], name="测试区2新公司工会委员会")  # a union with nothing yet
    page = soup(as_role(role).get("/enroll-stats/monitor" + Y))
    table = page.find(id="monitor-groups")
    assert table.find("th").get_text() == "区局（产业）工会"
    assert page.find(id="monitor-caption").get_text() == "各区局（产业）工会集中参保进度"
    rows = table.find("tbody").find_all("tr")
    assert [tr.find("td").get_text() for tr in rows] == ["测试区1总工会", "测试区2总工会", "合计"]
    by_group = {int(tr["data-group"]): shown_counts(tr) for tr in rows}
    for key in ("district1", "district2"):
        district = city.orgs[key]
        assert by_group[district.id] == direct_group(grassroots_under(district), year), key
    assert by_group[city.orgs["district1"].id]["enrolled"] == 3 + 36 + 3
    assert by_group[city.orgs["district2"].id] == {"unions": 4, "submitted": 1, "returned": 0, "not_submitted": 3,
                                                  "enrolled": 2, "eligible": 2}
    everything = direct_group(grassroots_under(city.orgs["city"]), year)
    assert by_group[-1] == shown_counts(page.find(id="monitor-totals")) == everything
    assert page.find("a", string="下载集中参保区局汇总表")["href"] == "/enroll-stats/city.xlsx?year=2027"
    assert page.find("a", string="下载集中参保统计表") is None
    labels = {tr.find("title").get_text() for tr in page.find("svg").find_all("rect", class_="bar-enrolled")}
    assert labels == {"测试区1总工会 集中参保人数 42", "测试区2总工会 集中参保人数 2"}


def test_every_city_monitor_number_opens_the_unions_behind_it(as_role, city, season):
    client = as_role("city")
    page = soup(client.get("/enroll-stats/monitor" + Y))
    assert_numbers_open_their_unions(client, page)
    d2 = city.orgs["district2"]
    listed = soup(client.get(f"/enroll-stats/monitor/unions{Y}&group={d2.id}"))
    assert listed.find(id="unions-title").get_text() == "2027年度集中参保：测试区2总工会 全部基层工会"
    shown = {int(tr["data-org"]) for tr in listed.find(id="rows").find_all("tr", attrs={"data-org": True})}
    assert shown == {o.id for o in grassroots_under(d2)}


def direct_state(union, year) -> str:
    """A union's state counted from its submissions (已提交 / 退回 / 未提交)."""
    central = Submission.select().where((Submission.org == union.id) & (Submission.year == year.id)
                                        & (Submission.mode == CENTRAL)).order_by(Submission.id)
    if any(s.status in enrollment.ACTIVE for s in central):
        return "submitted"
    return "returned" if central and list(central)[-1].status == "退回" else "not_submitted"


@pytest.mark.parametrize("role", ["district", "city"])
@pytest.mark.parametrize("htmx", [False, True])
def test_the_unions_behind_a_number_page_through_each_union_once(as_role, city, season, role, htmx):
    """40 more unions in district 1 (under its street union and directly under it, one with a
    分工会 that submitted while its union did not, one returned, one closed): every number of the
    district's and the city's monitor opens a list whose pages (JS off: the links; on: the
    fragments) hold each union of its group and state once, as counted from the rows, in the
    order of the organisation above them."""
    year, o = season["year"], city.orgs
    made = [factories.make_org(o["secondary1"] if i % 4 else o["district1"], name=f"测试区1分页{i}公司工会委员会")
            for i in range(40)]
    nested = factories.make_org(made[1], "分工会/工会小组", name="测试区1分页1公司分工会")
    submit(nested, year, 1)
    for union in made[2:9]:
        submit(union, year, 1)
    enrollment.move(submit(made[9], year, 1), "return", None, reason="人员有误")
    org_changes.close(made[10], "测试撤销")
    client = as_role(role)
    page = soup(client.get("/enroll-stats/monitor" + Y))
    assert_numbers_open_their_unions(client, page, htmx)
    root = o["district1"] if role == "district" else o["city"]
    children = [Organization.get_by_id(int(tr["data-group"])) for tr in page.find(id="monitor-groups")
                .find("tbody").find_all("tr") if int(tr["data-group"]) > 0]
    nearer = {u.id for child in children for u in grassroots_under(child)}
    everyone = grassroots_under(root)
    groups = [(None, everyone), (0, [u for u in everyone if u.id not in nearer])]
    for group, unions in groups + [(c.id, grassroots_under(c)) for c in children]:
        for state in ("", "submitted", "returned", "not_submitted"):
            url = f"/enroll-stats/monitor/unions{Y}&state={state}" + ("" if group is None else f"&group={group}")
            rows = listed_unions(client, url, htmx)
            expected = {u.id for u in unions if not state or direct_state(u, year) == state}
            ids = [int(tr["data-org"]) for tr in rows]
            assert len(ids) == len(set(ids)) and set(ids) == expected, url
    if role == "district":  # the street union's unions after those directly under the district, by id
        listed = [int(tr["data-org"]) for tr in listed_unions(client, "/enroll-stats/monitor/unions" + Y)]
        street = [u.id for u in made if u.parent_id == o["secondary1"].id and u.id != made[10].id]
        assert listed.index(street[0]) > listed.index(made[0].id)
        assert listed.index(nested.id) == listed.index(made[1].id) + 1
        assert [u for u in listed if u in street] == sorted(street)
    shown = {int(tr["data-org"]): [td.get_text() for td in tr.find_all("td")] for tr in listed_unions(
        client, "/enroll-stats/monitor/unions" + Y)}
    assert shown[nested.id][3:] == ["已提交", "1", "1"] and shown[made[1].id][3] == "未提交"
    assert shown[made[9].id][3:5] == ["退回", "0"] and made[10].id not in shown


def tree_order(org, year, state) -> list:
    """The monitor list's order counted from the tree: an organisation's grassroots unions by id, each
    followed by its 分工会 (its subtree by id), then its street unions' lists in turn, by id; open
    unions in `state` only."""
    out = []
    for union in Organization.select().where((Organization.parent == org.id) & (Organization.level == "grassroots")
                                             ).order_by(Organization.id):
        out += [u.id for u in Organization.select().join(OrgTree, on=(OrgTree.descendant == Organization.id))
                .where(OrgTree.ancestor == union.id).order_by(Organization.id)
                if u.level == "grassroots" and u.status == "正常" and (not state or direct_state(u, year) == state)]
    for child in Organization.select().where((Organization.parent == org.id)
                                             & Organization.level.in_(board.TREE_LEVELS)).order_by(Organization.id):
        out += tree_order(child, year, state)
    return out


def test_every_page_size_cuts_the_same_list_in_the_trees_order(city, season):
    """Pages of 1 to 4 unions (a page starting inside a union's 分工会, spanning two organisations)
    put together are the list counted from the tree, in its order, for each state; the total and
    the page number clamped to the last page as before."""
    year, o = season["year"], city.orgs
    made = [factories.make_org(o["secondary1"] if i % 3 else o["district1"], name=f"测试区1切分{i}公司工会委员会")
            for i in range(9)]
    nested = [factories.make_org(made[i], "分工会/工会小组", name=f"测试区1切分{i}公司分工会{k}")
              for i in (1, 4) for k in range(3)]
    for union in (made[1], nested[1], nested[3], nested[5], made[6]):
        submit(union, year, 1)
    enrollment.move(submit(nested[4], year, 1), "return", None, reason="人员有误")
    org_changes.close(nested[2], "测试撤销")
    for state in ("", "submitted", "returned", "not_submitted"):
        expected = tree_order(o["district1"], year, state)
        assert expected, state
        for size in (1, 2, 3, 4):
            listed, number = [], 1
            while True:
                items, total, shown = board.monitor_unions(o["district1"], year, state, None, number, size)
                assert total == len(expected) and shown == number, (state, size)
                listed += [u.id for u in items]
                if number * size >= total:
                    break
                number += 1
            assert listed == expected, (state, size)
            last = -(-len(expected) // size)
            assert board.monitor_unions(o["district1"], year, state, None, last + 5, size)[2] == last


def test_a_district_cannot_open_the_city_or_another_districts_group(as_role, city, season):
    """The district's monitor stays its own subtree's; the city's groups (the districts, the city
    itself) and a union further down are not groups of its monitor: 404."""
    client = as_role("district")
    page = soup(client.get("/enroll-stats/monitor" + Y))
    names = [tr.find("td").get_text() for tr in page.find(id="monitor-groups").find("tbody").find_all("tr")]
    assert names == ["测试区1街道总工会", "直属基层工会", "合计"]
    o = city.orgs
    for key in ("city", "centre", "district1", "district2", "secondary2", "grassroots1"):
        assert client.get(f"/enroll-stats/monitor/unions{Y}&group={o[key].id}").status_code == 404, key
    secondary = as_role("secondary")
    for key in ("city", "district1", "district2"):
        assert secondary.get(f"/enroll-stats/monitor/unions{Y}&group={o[key].id}").status_code == 404, key
    centre = as_role("centre")  # the city's own groups: the districts, nothing further down
    assert centre.get(f"/enroll-stats/monitor/unions{Y}&group={o['district1'].id}").status_code == 200
    assert centre.get(f"/enroll-stats/monitor/unions{Y}&group={o['secondary1'].id}").status_code == 404


def test_the_read_only_city_account_views_the_monitor_and_nothing_writes(as_role, city, season):
    """市总工会 opens the city's monitor, its fragment and the unions behind it; the pages show no
    form that writes and the requests change no row (the counters included)."""
    from tests.test_read_only import snapshot
    client = as_role("city")
    before = snapshot()
    urls = ["/enroll-stats/monitor" + Y, "/enroll-stats/monitor" + Y + "&pause=1",
            f"/enroll-stats/monitor/unions{Y}&group={city.orgs['district1'].id}&state=submitted"]
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            page = soup(response)
            assert not [f for f in page.find_all("form") if (f.get("method") or "get").lower() != "get"
                        and f.get("action") != "/logout"], url
    assert snapshot() == before
    assert client.post("/enroll-stats/monitor" + Y).status_code in (403, 405)


# --- city-wide ------------------------------------------------------------------------------------------
def test_the_city_excel_has_one_row_per_district(as_role, city, season):
    year = season["year"]
    Credit.create(org=city.orgs["district1"], year=year, amount=120000, note="2025年会员计划退回金额")
    rows = sheet_rows(as_role("centre").get("/enroll-stats/city.xlsx" + Y))
    *districts, total = rows
    assert [r["区局（产业）工会"] for r in districts] == ["测试区1总工会", "测试区2总工会"]
    for row, key in zip(districts, ("district1", "district2"), strict=True):
        unions = grassroots_under(city.orgs[key])
        sums = direct_sums([o.id for o in unions], year)
        submitted = Submission.select(Submission.org).distinct().where(
            Submission.org.in_([o.id for o in unions]) & Submission.status.in_(enrollment.ACTIVE)).count()
        assert (row["已提交基层工会数"], row["会员卡参保人数"], row["社保卡参保人数"]) == (
            submitted, sums["card"], sums["social"])
        assert Decimal(str(row["保障费用(元)"])) == yuan_cell(sums["fee"])
        assert Decimal(str(row["市总统一划拨(元)"])) == yuan_cell(sums["city"])
    assert districts[0]["抵扣金额(元)"] == 1200 and districts[1]["抵扣金额(元)"] == 0
    assert districts[0]["保障费用(元)"] == 78 + 936 + 78 and districts[1]["保障费用(元)"] == 52
    assert total["合计人数"] == 3 + 36 + 3 + 2
    assert as_role("city").get("/enroll-stats/city.xlsx" + Y).status_code == 200


def test_the_people_list_filters_pages_and_masks(as_role, city, season):
    year = season["year"]
    centre = as_role("centre")
    everyone = Enrollment.select().where((Enrollment.year == year.id) & Enrollment.active).count()
    assert f"总共 {everyone} 条记录" in text(centre.get("/enroll-stats/people" + Y))
    d1 = city.orgs["district1"].id
    in_d1 = (Enrollment.select().join(Organization, on=(Organization.id == Enrollment.org))
             .where((Enrollment.year == year.id) & Enrollment.active & (Organization.district == d1)).count())
    assert f"总共 {in_d1} 条记录" in text(centre.get(f"/enroll-stats/people{Y}&district={d1}"))
    assert "总共 2 条记录" in text(centre.get(f"/enroll-stats/people{Y}&channel={SOCIAL_CHANNEL}"))
    assert "总共 36 条记录" in text(centre.get(f"/enroll-stats/people{Y}&union=乙公司&district={d1}"))
    person = season["subs"]["甲"].enrollments.first().person
    one = centre.get(f"/enroll-stats/people{Y}&id_number={person.id_number.lower()}")
    assert "总共 1 条记录" in text(one) and person.name in text(one)
    table = str(soup(one).find(id="rows").find("table"))
    assert person.id_number not in table and f"{person.id_number[:4]} **** {person.id_number[-4:]}" in table
    assert "总共 0 条记录" in text(centre.get(f"/enroll-stats/people{Y}&type=B"))
    fragment = centre.get("/enroll-stats/people" + Y, headers={"HX-Request": "true"})
    assert soup(fragment).find("html") is None and soup(fragment).find(id="rows") is not None


def test_the_people_export_follows_the_filters_full_numbers_for_the_centre_masked_for_the_city(as_role, city, season):
    d1 = city.orgs["district1"].id
    url = f"/enroll-stats/people.xlsx{Y}&district={d1}&mode={CENTRAL}"
    rows = sheet_rows(as_role("centre").get(url))
    expected = {e.person.id_number for e in Enrollment.select()
                .join(Organization, on=(Organization.id == Enrollment.org))
                .where(Enrollment.active & (Organization.district == d1) & (Enrollment.mode == CENTRAL))}
    assert {r["证件号码"] for r in rows} == expected and len(rows) == len(expected) == 42
    assert {r["区局（产业）工会"] for r in rows} == {"测试区1总工会"}
    start, end = (Enrollment.select(Enrollment.start, Enrollment.end)
                  .where(Enrollment.active & (Enrollment.mode == CENTRAL))
                  .join(Organization, on=(Organization.id == Enrollment.org))
                  .where(Organization.district == d1).tuples().first())
    assert {(r["起保日期"], r["终保日期"]) for r in rows} == {(datetime.combine(start, time()),
                                                             datetime.combine(end, time()))}
    sheet = load_workbook(BytesIO(as_role("centre").get(url).data)).worksheets[0]
    assert [c.number_format for c in sheet[2][8:10]] == ["yyyy-mm-dd", "yyyy-mm-dd"]
    masked = sheet_rows(as_role("city").get(url))
    assert len(masked) == 42 and not expected & {r["证件号码"] for r in masked}
    assert all("****" in r["证件号码"] for r in masked)


def test_a_big_people_export_is_a_background_job_with_the_same_rows(as_role, city, season, monkeypatch):
    """Above PEOPLE_INLINE_LIMIT rows the export returns at once (a job with progress); the job's
    file holds exactly the rows the direct export would have."""
    from models.jobs import Job
    from models.stats import enroll_stats as stats
    d1 = city.orgs["district1"].id
    url = f"/enroll-stats/people.xlsx{Y}&district={d1}&mode={CENTRAL}"
    centre = as_role("centre")
    direct = sheet_rows(centre.get(url))
    monkeypatch.setattr(stats, "PEOPLE_INLINE_LIMIT", 10)
    response = centre.get(url)
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job = Job.select().order_by(Job.id.desc()).first()
    assert job.kind == "people_export" and job.status == "已完成" and job.result_data["rows"] == len(direct) == 42
    download = centre.get(f"/jobs/{job.id}/download")
    assert sheet_rows(download) == direct


@pytest.mark.parametrize("role", ["district", "secondary", "grassroots"])
def test_the_city_views_are_for_the_centre_and_the_city_only(as_role, season, role):
    client = as_role(role)
    for url in ("/enroll-stats/city.xlsx", "/enroll-stats/people", "/enroll-stats/people.xlsx"):
        assert client.get(url + Y).status_code == 403, (url, role)


def test_the_menu_and_the_statistics_page_by_role(as_role, season):
    district = soup(as_role("district").get("/enroll-stats/" + Y))
    labels = {a.get_text() for a in district.select(".sidemenu a")}
    assert {"集中参保实时监控画面", "集中参保统计"} <= labels and "参保人员名单" not in labels
    assert district.find(id="district-downloads").find("a", string="下载集中参保统计表")["href"] == (
        "/enroll-stats/district.xlsx?year=2027")
    assert district.find(id="city-downloads") is None
    for role in ("centre", "city"):
        centre = soup(as_role(role).get("/enroll-stats/" + Y))
        labels = [a.get_text() for a in centre.select(".sidemenu a")]
        assert {"集中参保统计", "参保人员名单", "集中参保实时监控画面"} <= set(labels), role
        assert labels.index("集中参保实时监控画面") + 1 == labels.index("集中参保统计")  # where the district has it
        downloads = centre.find(id="city-downloads")
        assert downloads.find("a", string="下载集中参保区局汇总表") is not None
        assert downloads.find("a", string="集中参保实时监控画面")["href"] == "/enroll-stats/monitor?year=2027"
    assert centre.find(id="district-downloads") is None
    assert as_role("grassroots").get("/enroll-stats/" + Y).status_code == 403


def third_district(city, year):
    """测试区3总工会 with its split set and one grassroots union under a street union."""
    district = factories.make_org(city.orgs["city"], "区总工会", name="测试区3总工会")
    for t in plans.types_of(year):
        plans.save_split(district, t, f"{(t.full_fee - t.subsidy_full) / 100:g}", "0",
                         factories.make_account(district), at=IN_WINDOW)
    return factories.make_org(factories.make_org(district, "街道总工会"))


def test_the_numbers_are_set_based_not_one_query_per_union(city, season):
    """The monitor of a district and of the city, and the 统计表's rows: as many statements with
    more unions, submissions and districts."""
    from models.stats import enroll_stats as stats
    year, district, root = season["year"], city.orgs["district1"], city.orgs["city"]

    def counted():
        return (statements(lambda: board.monitor(district, year), "SELECT"),
                statements(lambda: list(stats.union_rows(district, year)), "SELECT"),
                statements(lambda: board.monitor(root, year), "SELECT"))
    before = counted()
    for _ in range(4):
        submit(factories.make_org(city.orgs["secondary1"]), year, 1)
    submit(third_district(city, year), year, 2)
    assert len(board.monitor(root, year).groups) == 3
    assert before == counted() == (4, 3, 4)


@pytest.mark.parametrize("role", ["district", "centre", "city"])
def test_the_monitor_request_runs_as_many_statements_with_more_unions_and_districts(as_role, city, season, role):
    from tests.helpers import queries
    year = season["year"]
    client = as_role(role)

    def count():
        client.get("/enroll-stats/monitor" + Y)  # warm: the session, the account
        with queries() as seen:
            assert client.get("/enroll-stats/monitor" + Y).status_code == 200
        return len(seen)
    small = count()
    for _ in range(3):
        union = factories.make_org(city.orgs["secondary1"])
        submit(union, year, 2)
        factories.make_member(union)
    submit(third_district(city, year), year, 2)
    assert count() == small
