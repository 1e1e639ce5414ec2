"""会员卡集中参保 in a real browser, JavaScript on and off: 集中参保待确认名单 → 确认 → 参保确认画面 →
提交至区局审核 (asked first) → 批次详情 → the downloaded 告知书 PDF with the union's numbers."""

import io
from datetime import date, timedelta

from playwright.sync_api import expect
from pypdf import PdfReader

from models.base import now, today
from models.cards.cards import Card
from models.enroll import plans
from models.enroll.enrollment import Enrollment, StatusRecord
from models.enroll.plans import Window
from tests import factories
from tests.browser.helpers import log_in
from tests.factories.cards import luhn_card


def enrolling_year(city):
    """The year the confirmation screen works on today, its grassroots window open now."""
    on = today()
    y = plans.create_year(on.year + 1 if on.month >= 10 else on.year)
    Window.update(starts=now() - timedelta(days=10), ends=now() + timedelta(days=10)).where(
        (Window.year == y.id) & Window.kind.in_(["grassroots", "grassroots_pay"])).execute()
    a = plans.types_of(y)[0]
    plans.FeeSplit.create(org=city.orgs["district1"], type=a, district_part=1300, grassroots_part=0,
                          valid_from=plans.day_start(date(y.year, 1, 1)), valid_to=plans.day_end(date(y.year, 12, 31)))
    return y


def holder(org, insurance="已缴纳"):
    m = factories.make_member(org)
    Card.create(person=m.person_id, org=org, card_no=luhn_card(), issued_date=date(2026, 1, 5),
                eligible_from=date(2026, 1, 6))
    StatusRecord.create(id_number=m.person.id_number, name=m.person.name, employment="在职", insurance=insurance,
                        status_date=date(2026, 10, 1))
    return m


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
