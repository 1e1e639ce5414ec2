"""Issue 8's query and statistics screens in a real browser, JavaScript on and off: 保障信息查询 by
证件号码 (scoped to the district), 下载集中参保统计表, 集中参保实时监控画面 (a count opens its unions),
and the centre's 参保人员名单 with its export."""

import io
from datetime import date

from openpyxl import load_workbook
from playwright.sync_api import expect

from models.enroll import enrollment, plans
from tests.browser.helpers import log_in, switch_account
from tests.factories.enroll import enrolling_year, holder


def enroll(org, year, n):
    people = [holder(org).person for _ in range(n)]
    enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, plans.types_of(year)[0], people,
                      None, on=date(2026, 11, 20))
    return people


def test_coverage_statistics_monitor_and_people_list(page, city, tmp_path):
    year = enrolling_year(city)
    plans.FeeSplit.create(org=city.orgs["district2"], type=plans.types_of(year)[0], district_part=1300,
                          grassroots_part=0, valid_from=plans.day_start(date(year.year, 1, 1)),
                          valid_to=plans.day_end(date(year.year, 12, 31)))
    union = city.orgs["grassroots1"]
    mine = enroll(union, year, 3)
    theirs = enroll(city.orgs["grassroots2"], year, 1)

    log_in(page, city.account("district"))
    page.locator("nav.sidemenu").get_by_role("link", name="保障信息查询").click()
    page.get_by_label("证件号码").fill(mine[0].id_number)
    page.get_by_role("button", name="查询").click()
    row = page.locator("table.coverage-periods tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{year.year}")
    expect(row).to_contain_text(union.name)
    expect(row).to_contain_text("会员卡参保")
    expect(page.locator("#result")).not_to_contain_text(mine[0].id_number)  # masked
    page.get_by_label("证件号码").fill(theirs[0].id_number)  # another district's member
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#result")).to_contain_text("未查询到该证件号码在本单位范围内的参保信息")

    page.locator("nav.sidemenu").get_by_role("link", name="集中参保统计").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载集中参保统计表").click()
    path = tmp_path / "stats.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    ours = next(r for r in rows if r[0] == union.name)
    assert 3 in ours and 78 in ours  # 3 people, 78 元
    assert not any(r[0] == city.orgs["grassroots2"].name for r in rows)

    page.goto("/enroll-stats/monitor")
    expect(page.locator('#monitor-totals [data-count="submitted"]')).to_have_text("1")
    expect(page.locator('#monitor-totals [data-count="enrolled"]')).to_have_text("3")
    page.locator('#monitor-totals a:has([data-count="submitted"])').click()
    expect(page.locator("table")).to_contain_text(union.name)

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="参保人员名单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保人员名单")
    expect(page.locator("#rows table tbody tr")).to_have_count(4)  # both districts
    with page.expect_download() as download:
        page.locator("#people-export").click()
    path = tmp_path / "people.xlsx"
    download.value.save_as(path)
    exported = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    numbers = {str(c) for r in exported for c in r if c}
    assert {p.id_number for p in mine + theirs} <= numbers  # the centre's export has full numbers


def city_season(city):
    """Both districts enrolling: 3 people in district 1's street union, 1 in district 2's."""
    year = enrolling_year(city)
    plans.FeeSplit.create(org=city.orgs["district2"], type=plans.types_of(year)[0], district_part=1300,
                          grassroots_part=0, valid_from=plans.day_start(date(year.year, 1, 1)),
                          valid_to=plans.day_end(date(year.year, 12, 31)))
    enroll(city.orgs["grassroots1"], year, 3)
    enroll(city.orgs["grassroots2"], year, 1)
    return year


def test_the_city_monitor_by_district_and_the_unions_behind_a_number(page, city, js):
    """The centre's 集中参保实时监控画面 (issue 19): one row per 区局（产业）工会, a number opens that
    district's unions, 暂停自动刷新 and back — with and without JavaScript."""
    city_season(city)
    log_in(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="集中参保实时监控画面").click()
    expect(page.locator("#monitor-caption")).to_have_text("各区局（产业）工会集中参保进度")
    rows = page.locator("#monitor-groups tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("td").first).to_have_text("测试区1总工会")
    expect(rows.nth(1).locator("td").first).to_have_text("测试区2总工会")
    expect(page.locator('#monitor-totals [data-count="enrolled"]')).to_have_text("4")
    expect(page.locator('#monitor-totals [data-count="submitted"]')).to_have_text("2")
    expect(page.locator("#monitor-time")).to_contain_text("每30秒自动刷新")
    page.get_by_role("link", name="测试区2总工会 已提交 1").click()
    expect(page.locator("#unions-title")).to_contain_text("测试区2总工会 已提交基层工会")
    listed = page.locator("#rows tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(city.orgs["grassroots2"].name)
    page.go_back()
    page.get_by_role("link", name="暂停自动刷新").click()
    expect(page.locator("#monitor-time")).to_contain_text("自动刷新已暂停")
    assert page.locator("#monitor[hx-trigger]").count() == 0
    page.get_by_role("link", name="恢复自动刷新").click()
    expect(page.locator("#monitor-time")).to_contain_text("每30秒自动刷新")

    switch_account(page, city.account("district", 1))  # a district still sees only itself
    page.goto("/enroll-stats/monitor")
    expect(page.locator("#monitor-caption")).to_have_text("各二级工会集中参保进度")
    expect(page.locator("#monitor-groups")).not_to_contain_text("测试区1")
    response = page.goto(f"/enroll-stats/monitor/unions?group={city.orgs['district1'].id}")
    assert response.status == 404
