"""会员服务卡 in a real browser, JavaScript on and off: 卡片信息管理 → 加入待办会员列表, the header
counts, 提交办卡 refused with the manual's message, 修改证件到期日 (inline with JavaScript, its own
page without), 移除, then 提交办卡 → the batch."""

import re

from playwright.sync_api import expect

from models.cards.cards import CardBatch, CardPending
from models.members.people import Person
from tests.browser.helpers import log_in
from tests.factories.cards import card_member


def test_pending_list_fix_remove_and_submit(page, city, js):
    union = city.orgs["grassroots1"]
    good = card_member(union, name="办卡甲")
    no_expiry = card_member(union, name="办卡乙", id_expiry=None)
    short = card_member(union, name="办卡丙", work_unit="南京路")
    page.on("dialog", lambda dialog: dialog.accept())  # 移除 asks first (hx-confirm)

    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="卡片信息管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("卡片信息管理")
    for m in (good, no_expiry, short):
        page.get_by_label(f"选择 {m.person.name}").check()
    page.get_by_role("button", name="加入待办会员列表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("待办会员列表")
    counts = page.locator("#pending-counts")
    expect(counts).to_contain_text("待办会员：3人；校验通过：1人；未通过：2人。")

    page.get_by_role("button", name="提交办卡").click()
    expect(page.locator("#submit-error")).to_have_text("请移除校验未通过及未校验的会员，才能进行提交办卡")
    assert CardBatch.select().count() == 0

    row = CardPending.get(CardPending.membership == no_expiry.id)
    page.locator(f"#pending-{row.id}").get_by_role("link", name="修改证件到期日").click()
    if not js:
        expect(page.get_by_role("heading", level=1)).to_have_text("修改证件到期日")
    page.get_by_label(re.compile(r"^(\* )?证件到期日$")).fill("2031-08-08")  # not 修改证件到期日：… of the rows
    page.get_by_role("button", name="保存").click()
    expect(page.locator(f"#pending-{row.id} .check-result")).to_have_text("已通过")
    expect(counts).to_contain_text("校验通过：2人；未通过：1人。")
    assert str(Person.get_by_id(no_expiry.person_id).id_expiry) == "2031-08-08"

    bad = CardPending.get(CardPending.membership == short.id)
    page.locator(f"#pending-{bad.id}").get_by_role("button", name="移除").click()
    expect(page.locator(f"#pending-{bad.id}")).to_have_count(0)
    expect(counts).to_contain_text("待办会员：2人；校验通过：2人；未通过：0人。")

    page.get_by_role("button", name="提交办卡").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^办卡批次 KB\d{12}$"))
    expect(page.locator("#batch-status")).to_have_text("待报送")
    batch = CardBatch.get()
    assert batch.count == 2 and CardPending.select().count() == 0


def test_district_exports_a_batch_for_the_bank(page, city, tmp_path):
    from tests.factories.cards import make_batch
    batch = make_batch(city.orgs["grassroots1"], people=2)
    log_in(page, city.account("district"))
    page.goto(f"/cards/batches/{batch.id}")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出报送银行").click()
    assert download.value.suggested_filename == f"办卡批次{batch.number}.xlsx"
    page.goto(f"/cards/batches/{batch.id}")
    expect(page.locator("#batch-status")).to_have_text("已报送银行")
    expect(page.get_by_role("link", name="下载报送文件")).to_be_visible()
