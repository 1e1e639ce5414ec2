"""互助保障年度设置 in a real browser, JavaScript on and off: the centre creates a protection year,
changes a window and sees it on the list."""

import re
from datetime import datetime

from playwright.sync_api import expect

from models.mutual_aid.years import AidWindow, AidYear
from tests.browser.helpers import log_in


def test_the_centre_creates_a_year_changes_a_window_and_sees_it_listed(page, city):
    log_in(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="互助保障年度设置").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("互助保障年度设置")
    page.get_by_label("保障年度").fill("2026")
    page.get_by_role("button", name="新建").click()
    expect(page).to_have_url(re.compile(r"/mutual-aid/years/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("2026年度互助保障设置")
    expect(page.get_by_label("户名")).to_have_value("上海市职工保障互助会")

    ends = page.get_by_label("即时参保结束")
    expect(ends).to_have_value("2027-06-29 23:59")
    ends.fill("2027-06-30")  # a day alone: saved as its last moment
    page.get_by_label("集中参保结束").fill("2026-05-01")  # before its start: refused first
    page.get_by_role("button", name="保存时间窗口").click()
    expect(page.get_by_role("alert")).to_contain_text("集中参保结束时间：不能早于开始时间（2026-06-01 00:00）")
    year = AidYear.get(AidYear.year == 2026)
    assert AidWindow.get((AidWindow.year == year.id) & (AidWindow.kind == "即时参保")).ends == datetime(
        2027, 6, 29, 23, 59, 59)

    page.get_by_label("集中参保结束").fill("2026-06-25 17:00")
    page.get_by_role("button", name="保存时间窗口").click()
    expect(page.get_by_role("status").filter(has_text="已保存参保时间窗口")).to_be_visible()
    expect(page.get_by_label("集中参保结束")).to_have_value("2026-06-25 17:00")

    page.locator("nav.sidemenu").get_by_role("link", name="互助保障年度设置").click()
    row = page.locator("#aid-years").get_by_role("row", name=re.compile("2026年度"))
    expect(row).to_contain_text("2026-06-01 00:00 至 2026-06-25 17:00")
    expect(row).to_contain_text("2026-07-01 00:00 至 2027-06-30 23:59")
