"""会员卡集中参保 in a real browser, JavaScript on and off: 集中参保待确认名单 → 确认 → 参保确认画面 →
提交至区局审核 (asked first) → 批次详情 → the downloaded 告知书 PDF with the union's numbers."""

import io

from playwright.sync_api import expect
from pypdf import PdfReader

from models.enroll.enrollment import Enrollment
from tests.browser.helpers import log_in
from tests.factories.enroll import enrolling_year, holder


def test_confirm_submit_and_download_the_notice(page, city, js, tmp_path):
    union = city.orgs["grassroots1"]
    year = enrolling_year(city)
    for _ in range(2):
        holder(union)
    unpaid = holder(union, insurance="未缴纳")
    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="会员卡参保信息管理").click()
    page.get_by_role("link", name="集中参保待确认名单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("集中参保待确认名单")
    page.locator(f"#person-{unpaid.person_id}").get_by_role("button", name="确认").click()
    expect(page.locator("#confirm-text")).to_contain_text("已确认的会员会加入集中参保名单且无法移除")
    page.get_by_role("button", name="确认").click()
    expect(page.locator(f"#person-{unpaid.person_id}")).to_contain_text("已确认")

    page.goto("/enroll/card/central")
    header = page.locator("#central-header")
    expect(header).to_contain_text(f"保障年度：{year.year}年。可参保人数：3人。——保障费用：78元；市总统一划拨：39元；")
    page.get_by_role("button", name="提交至区局审核").click()
    expect(page.locator("#confirm-text")).to_have_text("您选择的保障类型为：A类会员专享基本保障 请确认无误后再提交！")
    # the result page downloads the 告知书 at once (issue 16 item 14), and keeps the link
    with page.expect_download() as download:
        page.get_by_role("button", name="确定").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("批次详情")
    expect(page.locator("#sub-status")).to_have_text("区局确认中")
    expect(page.locator("#notice-download")).to_contain_text("集中参保告知书正在下载")
    expect(page.get_by_role("link", name="下载集中参保告知书")).to_be_visible()
    assert Enrollment.select().where(Enrollment.active).count() == 3
    path = tmp_path / "notice.pdf"
    download.value.save_as(path)
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "截至今日参加A类会员共计3人（会员卡参保3人，社保卡参保0人）" in text and union.name in text
