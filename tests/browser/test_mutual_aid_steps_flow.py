"""参保批次管理 → every step of a batch, JavaScript on and off, by clicking only (ma-integrate): from the
side menu to each state's next action (参保清册, 清册校验, 保障项目选择, 保费详细, 上传缴费凭证, 批次撤回,
批次删除) and back to the roster from each step page."""

import re

from playwright.sync_api import expect

from models.mutual_aid.batches import (
    ATTACH_FAILED,
    AWAIT_VOUCHER,
    CHECK_FAILED,
    CHOOSE_ITEMS,
    INSURED,
    TO_CHECK,
)
from models.mutual_aid.years import INSTANT
from tests.browser.helpers import log_in
from tests.factories.mutual_aid import approved_code, batch_in
from tests.factories.mutual_check import open_now

WALK = {  # state → the links to follow from its row, and the heading each opens
    TO_CHECK: [("参保清册", "参保清册"), ("清册校验", "清册校验")],
    CHECK_FAILED: [("清册校验", "清册校验")],
    ATTACH_FAILED: [("清册校验", "清册校验")],
    CHOOSE_ITEMS: [("保障项目选择", "保障项目选择")],
    AWAIT_VOUCHER: [("保费详细", "保费详细"), ("上传缴费凭证", "新增缴费信息"), ("批次撤回", "批次撤回")],
    INSURED: [("保费详细", "保费详细")],
}


def to_list(page):
    page.locator("nav.sidemenu").get_by_role("link", name="参保批次管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保批次管理")


def test_every_step_of_a_batch_is_a_click_away(page, city, js):
    open_now()
    code = approved_code(city, 1)
    batches = {state: batch_in(code, state, kind=INSTANT) for state in WALK}
    log_in(page, code.account)
    for state, walk in WALK.items():
        batch = batches[state]
        for label, heading in walk:
            to_list(page)
            # the manual's words, named with the batch for screen readers ("参保清册：2026年度即时参保 …")
            page.locator(f"#batch-{batch.id}").get_by_role("link", name=re.compile(f"^{label}：")).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            if label in ("清册校验", "保障项目选择", "保费详细"):  # and back to the batch's roster
                page.locator(".crumbs").get_by_role("link", name=re.compile("参保清册|即时参保")).click()
                expect(page.get_by_role("heading", level=1)).to_have_text("参保清册")
                expect(page.locator("#batch-status")).to_have_text(state)
    # 批次删除: in the row with JavaScript, on its own page without
    to_list(page)
    page.locator(f"#batch-{batches[TO_CHECK].id}").get_by_role("link", name="批次删除").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保批次管理" if js else "批次删除")
    expect(page.get_by_role("button", name="确定删除")).to_be_visible()
    # from the roster the steps go on: 参保清册 → 清册校验
    to_list(page)
    page.locator(f"#batch-{batches[TO_CHECK].id}").get_by_role("link", name="参保清册").click()
    page.locator("#batch-steps").get_by_role("link", name="清册校验").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("清册校验")
