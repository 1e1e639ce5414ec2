"""首页 dashboard: the four counts equal direct counts and open the people/units behind them;
the 入会人数统计图 (SVG + table) for 今日 / 本周 / 本月 and a date range."""

from datetime import date, datetime, timedelta

import pytest
import time_machine

from models.members.people import Membership
from models.orgs.organizations import Enterprise, Organization, OrgTree
from models.stats.dashboard import nice_max, parse_period
from tests import factories
from tests.helpers import soup

TODAY = date(2026, 11, 25)  # a Wednesday


def number(page, css):
    return int(page.select_one(css).get_text())


def summary_total(response):
    assert response.status_code == 200, response.status_code
    page = soup(response)
    text = page.select_one(".pager-summary").get_text()
    return int(text.split("总共")[1].split("条")[0])


@pytest.fixture
def populated(city):
    """Members joined on several days in both districts; one left; enterprises."""
    days = [TODAY, TODAY - timedelta(days=1), TODAY - timedelta(days=3), TODAY - timedelta(days=20),
            TODAY - timedelta(days=400)]
    unions = [city.orgs[k] for k in ("grassroots1", "direct1", "grassroots2", "temporary1")]
    for i in range(24):
        day = days[i % len(days)]
        factories.make_member(unions[i % len(unions)], join_date=day,
                              approved_at=datetime.combine(day, datetime.min.time()) + timedelta(hours=9))
    from models.members import members
    gone = Membership.select().where(Membership.org == unions[0].id).first()
    members.change(gone, status="已转出")
    for org in (city.orgs["grassroots1"], city.orgs["grassroots1"], city.orgs["direct2"]):
        factories.make_enterprise(org)
    return city


def direct(root, start=None, end=None):
    sub = OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == root.id)
    members = Membership.select().where(Membership.org.in_(sub) & (Membership.status == "正常"))
    joined = members
    if start:
        joined = members.where((Membership.join_date >= start) & (Membership.join_date <= end))
    activated = Membership.select().where(Membership.org.in_(sub) & Membership.approved_at.is_null(False))
    if start:
        first = datetime.combine(start, datetime.min.time())
        after = datetime.combine(end + timedelta(days=1), datetime.min.time())
        activated = activated.where((Membership.approved_at >= first) & (Membership.approved_at < after))
    grassroots = Organization.select().where(Organization.id.in_(sub) & (Organization.level == "grassroots")
                                             & (Organization.status == "正常"))
    return {"members": members.count(), "joined": joined.count(), "activated": activated.count(),
            "grassroots": grassroots.count(), "enterprises": Enterprise.select().where(Enterprise.org.in_(sub)).count()}


@pytest.mark.parametrize("role,root_key", [("district", "district1"), ("city", "city"), ("secondary", "secondary1"),
                                           ("grassroots", "grassroots1")])
@pytest.mark.parametrize("tab,start_offset", [("today", 0), ("week", 2), ("month", 24)])
def test_counts_equal_direct_counts_and_open_the_people(populated, as_role, role, root_key, tab, start_offset):
    with time_machine.travel(datetime(2026, 11, 25, 10, 0), tick=False):
        client = as_role(role)
        root = populated.orgs[root_key]
        start, end = TODAY - timedelta(days=start_offset), TODAY
        expected = direct(root, start, end)
        page = soup(client.get(f"/home?tab={tab}"))
        assert number(page, "#stat-members") == expected["members"]
        assert number(page, "#stat-grassroots") == expected["grassroots"]
        assert number(page, "#stat-enterprises") == expected["enterprises"]
        assert number(page, "#stat-activated") == expected["activated"]
        caption = page.select_one("#chart-caption")
        label = {"today": "今日", "week": "本周", "month": "本月"}[tab]
        assert caption.get_text(strip=True) == f"入会人数统计图{label}共计入会人数{expected['joined']}"
        # every count opens the list behind it, with the same total
        for css, key in (("#stat-members", "members"), ("#stat-grassroots", "grassroots"),
                         ("#stat-enterprises", "enterprises"), ("#stat-activated", "activated")):
            href = page.select_one(css).find_parent("a")["href"]
            assert summary_total(client.get(href)) == expected[key], (css, href)
        assert summary_total(client.get(caption.find("a")["href"])) == expected["joined"]
        # the table beside the chart: one row per day, 新增 sums to the caption, 原有 + 新增 chain
        rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in page.select(".chart-table tbody tr")]
        assert len(rows) == start_offset + 1
        assert sum(int(r[1]) for r in rows) == expected["joined"]
        newest = rows[0]
        assert int(newest[2]) + int(newest[1]) == expected["members"]  # 原有 today + 新增 today


def test_chart_is_svg_without_javascript(populated, as_role):
    with time_machine.travel(datetime(2026, 11, 25, 10, 0), tick=False):
        page = soup(as_role("district").get("/home?tab=week"))
    svg = page.select_one("figure.chart svg")
    assert svg is not None and len(svg.select("rect.bar-new")) == 3 + 1  # 3 days + legend
    assert svg.select_one("polyline.line-old") is not None
    assert [t.get_text() for t in svg.select("text.legend")] == ["新增", "原有"]
    tabs = {a.get_text(): a["href"] for a in page.select("nav.tabs a")}
    assert tabs == {"今日": "/home?tab=today", "本周": "/home?tab=week", "本月": "/home?tab=month"}


def test_tabs_swap_only_the_dashboard_with_htmx(populated, as_role):
    response = as_role("district").get("/home?tab=month", headers={"HX-Request": "true"})
    page = soup(response)
    assert page.find("html") is None and page.select_one("#dashboard") is not None
    assert "HX-Request" in response.headers["Vary"]


def test_date_range(populated, as_role):
    with time_machine.travel(datetime(2026, 11, 25, 10, 0), tick=False):
        start, end = TODAY - timedelta(days=30), TODAY - timedelta(days=2)
        page = soup(as_role("district").get(f"/home?start={start}&end={end}"))
        expected = direct(populated.orgs["district1"], start, end)
        assert page.select_one("#chart-caption").get_text(strip=True) == \
            f"入会人数统计图{start} 至 {end}共计入会人数{expected['joined']}"
        assert len(page.select(".chart-table tbody tr")) == 29


@pytest.mark.parametrize("query,message", [
    ("start=2026-02-30&end=2026-03-01", "开始日期格式应为 年-月-日"),
    ("start=2026-11-20&end=2026-11-01", "开始日期不能晚于结束日期"),
    ("start=2026-11-20", "请填写结束日期"),
    ("start=2024-01-01&end=2026-11-01", "查询范围不能超过一年"),
    ("start=2026-11-20&end=2027-01-01", "结束日期不能晚于今天"),
    ("start=<script>&end=x", "开始日期格式应为 年-月-日"),
])
def test_bad_ranges_are_explained(populated, as_role, query, message):
    with time_machine.travel(datetime(2026, 11, 25, 10, 0), tick=False):
        response = as_role("district").get(f"/home?{query}")
    assert response.status_code == 422
    page = soup(response)
    assert message in page.select_one(".alert-error").get_text()
    assert "本周" in page.select_one("#chart-caption").get_text()  # falls back to the week


def test_period_parsing():
    assert parse_period({}, TODAY).start == date(2026, 11, 23)
    assert parse_period({"tab": "month"}, TODAY).start == date(2026, 11, 1)
    assert parse_period({"tab": "today"}, TODAY).days == [TODAY]


@pytest.mark.parametrize("value,expected", [(0, 4), (1, 4), (4, 4), (5, 8), (9, 20), (21, 40), (999, 2000)])
def test_axis_maximum_is_round_and_covers_the_value(value, expected):
    assert nice_max(value) == expected
