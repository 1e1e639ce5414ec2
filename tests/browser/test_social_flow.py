"""社保卡参保 in a real browser, JavaScript on and off (issue 9): ① 获取社保卡和就业状态, watching its
progress until the tabs refresh themselves, ticking people in ④ 待提交, ⑤ 提交至上级审核 (asked
first), then the district adds it with 参保通道 社保卡 and submits, and the centre accepts."""

import json
from datetime import date, timedelta

from playwright.sync_api import expect

from models.base import now
from models.enroll.enrollment import StatusRecord, Submission
from models.enroll.plans import Window
from models.jobs import Job, run_job
from models.review.batches import DistrictBatch
from tests import factories
from tests.browser.helpers import log_in, switch_account
from tests.factories.enroll import enrolling_year


def registry_member(org, card="正常", employment="在职"):
    m = factories.make_member(org)
    StatusRecord.create(id_number=m.person.id_number, name=m.person.name, card_status=card, employment=employment,
                        insurance="已缴纳", status_date=date(2026, 11, 1))
    return m.person


def test_click_fetch_statuses_and_see_the_result(page, city):
    union = city.orgs["grassroots1"]
    enrolling_year(city)
    registry_member(union)
    registry_member(union, card="封存")
    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="社保卡参保信息管理").click()
    page.get_by_role("link", name="集中参保办理").click()
    expect(page.locator("#social-counts")).to_contain_text("待校验人数：2人")
    page.get_by_role("button", name="① 获取社保卡和就业状态").click()
    expect(page.locator("#verify-status")).to_contain_text("已完成，2 / 2 人")
    expect(page.locator("#social-counts")).to_contain_text("待校验人数：1人")
    expect(page.locator("#social-header")).to_contain_text("可参保人数：1。——保障费用：26元")
    page.get_by_role("link", name="③ 待校验（1人）").click()
    expect(page.locator("#abnormal-hint")).to_contain_text("请进行工会会员服务卡参保")
    expect(page.locator("table.social-people tbody")).to_contain_text("封存")


def test_watch_progress_tick_submit_then_district_and_centre(page, city, js):
    page.set_default_timeout(20_000)  # a long walk through four accounts on a busy CI machine
    union = city.orgs["grassroots1"]
    year = enrolling_year(city)
    Window.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=5)).where(
        (Window.year == year.id) & (Window.kind == "district_submit")).execute()
    people = [registry_member(union) for _ in range(3)]
    log_in(page, city.account("grassroots"))
    # the click while the worker is busy leaves the job queued: the page shows its progress
    job = Job.create(kind="social_verify", title="获取社保卡和就业状态", org=union, owner=city.account("grassroots"),
                     progress_total=3,
                     params=json.dumps({"org": union.id, "year": year.id, "people": [p.id for p in people]}))
    page.goto("/enroll/social/central")
    expect(page.locator("#verify-status")).to_contain_text("排队中，0 / 3 人（完成后列表自动刷新）")
    expect(page.get_by_role("button", name="① 获取社保卡和就业状态")).to_be_disabled()
    run_job(job.id)  # the worker
    # htmx polling (JavaScript) or the meta refresh (without) reloads the page by itself
    expect(page.locator("#social-counts")).to_contain_text("待校验人数：0人", timeout=15_000)
    expect(page.locator("#social-header")).to_contain_text("可参保人数：3。——保障费用：78元")

    page.get_by_role("link", name="④ 待提交（3人）").click()
    page.wait_for_load_state("networkidle")  # the tab's swap has landed before anything is ticked
    page.get_by_role("checkbox", name=f"选择 {people[0].name}").check()
    page.get_by_role("checkbox", name=f"选择 {people[1].name}").check()
    page.get_by_role("button", name="⑤ 提交至上级审核").click()
    expect(page.locator("#confirm-text")).to_have_text(
        "您选择的保障类型为：A类会员专享基本保障 请确认无误后再提交！确认将已勾选人员，提交参保？")
    with page.expect_download() as notice:  # the result page downloads the 告知书 at once (issue 16 item 14)
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#sub-status")).to_have_text("区局确认中")
    assert notice.value.suggested_filename.endswith("集中参保告知书.pdf")
    sub = Submission.get()
    assert (sub.channel, sub.count) == ("社保卡参保", 2)

    switch_account(page, city.account("district"))
    page.goto("/review/central")
    page.locator("#pending-pane select[name=p_channel]").select_option("社保卡参保")
    page.locator("#pending-pane").get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#pending-pane")).to_contain_text("社保卡参保")
    page.locator("#pending-pane").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="→ 添加至待提交").click()
    expect(page.locator("#queue-header")).to_contain_text("合计参保人数：2人(会员卡参保人数0人，社保卡参保人数2人)。保障费用：52元")
    page.get_by_role("link", name="提交列表中的参保信息").click()
    page.get_by_label("姓名").fill("王经办")
    page.get_by_label("手机号").fill("13800000000")
    page.get_by_label("电子邮箱").fill("wang@example.com")
    page.get_by_role("button", name="确认提交至职保中心").click()
    expect(page.locator("#batch-status")).to_have_text("参保审核中")
    batch = DistrictBatch.get()
    assert batch.social_count == 2

    switch_account(page, city.account("centre"))
    page.goto(f"/batches/{batch.id}")
    page.get_by_role("button", name="确认", exact=True).click()
    page.get_by_role("button", name="确定确认").click()  # money at stake: asked first
    expect(page.locator("#batch-status")).to_contain_text("缴费凭证待上传")

    switch_account(page, city.account("grassroots"))
    page.goto("/enroll/social/")
    expect(page.locator("#rows tbody tr").first).to_contain_text(batch.number)
