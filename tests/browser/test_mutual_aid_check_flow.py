"""清册校验 → 上传附件 → 附件审核 in a real browser, JavaScript on and off (seed 004 清册校验 pages):
the unit validates a roster that fails rule 3, uploads a 情况说明 under its 附件类型, opens the 承诺书
(closes it with × and opens it again), ticks 我已阅读并同意 and 确认提交 (→ 附件审核中); the centre finds
the batch in 附件审核 and passes it (→ 保障项目待选择)."""

import re

from playwright.sync_api import expect

from models.mutual_aid.batches import ATTACH_REVIEW, CHOOSE_ITEMS, TO_CHECK, AidBatch
from tests.browser.helpers import log_in, switch_account
from tests.factories.mutual_aid import approved_code, batch_in, png
from tests.factories.mutual_check import insured_last_year, open_now, registry_unit, roster


def test_a_rule3_failure_goes_through_attachments_to_item_selection(page, city, js, tmp_path):
    open_now()
    code = approved_code(city, 31)
    insured_last_year(code, 1)
    registry_unit("SB001", 100)
    batch = batch_in(code, TO_CHECK)
    roster(batch, 10)
    letter = tmp_path / "情况说明.png"
    letter.write_bytes(png())
    check = f"/mutual-aid/batches/{batch.id}/check"

    log_in(page, code.account)
    page.goto(check)
    page.get_by_role("button", name="清册校验").click()
    expect(page.locator("#audit-log tbody")).to_contain_text("清册校验")  # the check has run
    rule3 = page.locator("#rule-results tr", has_text="规则三")
    expect(rule3).to_contain_text("不通过")
    expect(rule3).to_contain_text("参保比例为10%")
    expect(page.locator("#blockers")).to_contain_text("请上传附件：情况说明（加盖公章）")
    page.get_by_label("附件类型").select_option("情况说明（加盖公章）")
    page.get_by_label("附件文件").set_input_files(str(letter))
    page.get_by_role("button", name="选择上传").click()
    expect(page.locator("#attachment-list")).to_contain_text("情况说明.png")
    expect(page.locator("#attachment-list li")).to_have_count(1)
    expect(page.locator("#verdict")).to_contain_text("清册需上传附件")

    page.get_by_role("link", name="清册提交").click()
    expect(page.get_by_role("heading", name="承诺书")).to_be_visible()
    if js:  # a dialog over the check page
        expect(page.locator("#commitment-slot [role=dialog]")).to_be_visible()
        assert page.url.endswith(check)
    else:  # the letter's own page
        assert page.url.endswith(f"/mutual-aid/batches/{batch.id}/submit")
    page.get_by_role("link", name="关闭").click()  # × back to editing
    expect(page.get_by_role("heading", name="承诺书")).to_have_count(0)
    expect(page.get_by_role("button", name="清册校验")).to_be_visible()
    page.get_by_role("link", name="清册提交").click()
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("#batch-status")).to_have_text(ATTACH_REVIEW)
    assert AidBatch.get_by_id(batch.id).status == ATTACH_REVIEW

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="附件审核").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("附件审核")
    page.get_by_role("row", name=re.compile(code.code)).get_by_role("link", name="审核").click()
    expect(page.locator("#attachment-list a").first).to_have_text("情况说明.png")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("附件审核")
    assert AidBatch.get_by_id(batch.id).status == CHOOSE_ITEMS

    switch_account(page, code.account)
    page.goto(check)
    expect(page.locator("#batch-status")).to_have_text(CHOOSE_ITEMS)
    expect(page.locator("#audit-log")).to_contain_text("附件审核通过")
