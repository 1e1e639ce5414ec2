"""保障项目选择 in a real browser, JavaScript on and off (issue 18 item 7): the unit ticks items (a
refused combination first), 生成保费信息, 提交确认保费, opens 保费详细 and downloads the Excel file;
then 保障信息查询 shows the person's mutual-aid coverage with its 免责期."""

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from models.base import now
from models.mutual_aid import years
from models.mutual_aid.batches import AWAIT_VOUCHER, CHOOSE_ITEMS, AidBatch, RosterEntry
from tests import factories
from tests.browser.helpers import log_in, switch_account
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, roster_of


def test_choose_items_generate_confirm_detail_and_excel(page, committed):
    city = factories.make_city()
    year = aid_year()
    years.AidWindow.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=1)).where(
        years.AidWindow.year == year.id).execute()
    code = approved_code(city, 1)
    batch = batch_in(code, CHOOSE_ITEMS, kind=years.INSTANT)
    AidBatch.update(submitted_at=datetime(2026, 8, 2, 9)).where(AidBatch.id == batch.id).execute()
    roster_of(batch, [{"employment": "在职"}, {"employment": "-"}])

    log_in(page, code.account)
    page.goto(f"/mutual-aid/batches/{batch.id}/items")
    expect(page.get_by_role("heading", level=1)).to_have_text("保障项目选择")
    page.get_by_label("选择A1").check()
    page.get_by_label("选择A2").check()
    page.get_by_role("button", name="生成保费信息").click()
    expect(page.locator("#items-error")).to_contain_text("A1、A2、A3至多选1种")
    page.get_by_label("选择A2").uncheck()
    page.get_by_label("选择A1").uncheck()
    for code_ in ("A0", "B0", "C0"):
        page.get_by_label(f"选择{code_}").check()
    page.get_by_role("button", name="生成保费信息").click()
    # 职保: 180; outside 职保: B0 + C0 = 70.
    expect(page.locator("#premium-total")).to_have_text("250元")
    expect(page.locator("#coverage-period")).to_have_text("2026-08-03 至 2027-06-30（全年）")
    page.get_by_role("button", name="提交确认保费").click()
    expect(page.locator("#batch-status")).to_have_text(AWAIT_VOUCHER)
    expect(page.locator("#payment-deadline")).to_be_visible()
    assert AidBatch.get_by_id(batch.id).premium_confirmed_at is not None

    page.locator("#premium-detail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("保费详细")
    expect(page.locator("#premium-rows")).to_contain_text("180元")
    expect(page.locator("#premium-rows")).to_contain_text("B0、C0")
    with page.expect_download() as download:
        page.locator("#export-premiums").click()
    assert re.fullmatch(r"premiums-\d+-\d{8}\.xlsx|保费详细_.*\.xlsx", download.value.suggested_filename)
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert list(sheet.iter_rows(values_only=True))[-1][3] == 250

    number = RosterEntry.select().order_by(RosterEntry.id).first().id_number
    switch_account(page, city.account("centre"))
    page.goto("/coverage/")
    page.get_by_label("证件号码").fill(number)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#aid-coverage")).to_contain_text("A0、B0、C0")
    expect(page.locator("#aid-coverage")).to_contain_text("特种重病保障B0执行60天免责期，自2026-10-02起保障")
