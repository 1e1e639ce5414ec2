"""参保批次查询 and 互助保障统计 in a real browser, JavaScript on and off: the centre filters the batch
list by 状态, opens a count per state, and from the statistics opens a district's people."""

import re

from playwright.sync_api import expect

from models.mutual_aid.batches import AWAIT_VOUCHER, INSURED
from tests.browser.helpers import log_in
from tests.factories.mutual_aid import aid_year, batch_in, code_in_org, enroll_people


def test_the_centre_filters_the_batches_and_opens_the_people_behind_a_district(page, city):
    year = aid_year(2026)
    one = code_in_org(city, city.orgs["grassroots1"], 1)
    two = code_in_org(city, city.orgs["direct2"], 2)
    enroll_people(batch_in(one, INSURED, year=year), range(3), premium=18000)
    enroll_people(batch_in(two, AWAIT_VOUCHER, year=year), range(3, 5), premium=18000)
    log_in(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="参保批次查询").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保批次查询")
    expect(page.locator("#batch-list tbody tr")).to_have_count(2)
    page.get_by_label("状态", exact=True).select_option(INSURED)
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#batch-list tbody tr")).to_have_count(1)
    expect(page.locator("#batch-list tbody tr")).to_contain_text(one.unit_name)
    page.locator("#state-counts").get_by_role("link", name=f"{AWAIT_VOUCHER}（1）").click()
    expect(page.locator("#batch-list tbody tr")).to_have_count(1)
    expect(page.locator("#batch-list tbody tr")).to_contain_text(two.unit_name)
    expect(page.locator("#batch-list tbody tr a").first).to_have_attribute(
        "href", re.compile(r"^/mutual-aid/batches/\d+$"))

    page.locator("nav.sidemenu").get_by_role("link", name="互助保障统计").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("互助保障统计")
    expect(page.locator("#total-people")).to_have_text("3")
    row = page.locator(f'#stats-districts tr[data-district="{city.orgs["district1"].id}"]')
    row.locator("a.n-people").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保人员")
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    expect(page.locator("#people-filter")).to_contain_text(city.orgs["district1"].name)
