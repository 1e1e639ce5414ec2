"""A district creates an organisation and an account for it; the new account logs in with its
one-time password, sets its own, and sees the 首页 dashboard chart — JavaScript on and off."""

import re

from playwright.sync_api import expect

from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from tests.browser.helpers import log_in


def test_create_org_and_account_then_log_in_and_see_the_chart(page, city):
    log_in(page, city.account("district"))
    district = city.orgs["district1"]

    # 组织信息 → own organisation → 新增下级组织
    page.locator("nav.sidemenu").get_by_role("link", name="组织信息").click()
    page.get_by_role("link", name=district.name).first.click()
    page.get_by_role("link", name="新增下级组织").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新增下级组织")
    page.get_by_label("组织名称").fill("浏览器测试公司工会委员会")
    page.get_by_label("工会类型").select_option("工会委员会")
    page.get_by_label("联系人").fill("赵六")
    page.get_by_label("联系电话").fill("13811112222")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("浏览器测试公司工会委员会")
    org = Organization.get(Organization.name == "浏览器测试公司工会委员会")
    assert org.parent_id == district.id and org.level == "grassroots"

    # 账号管理 → 新增账号: the one-time password is shown once
    page.get_by_role("link", name="账号管理").click()
    page.get_by_label("账号").fill("browser-new")
    page.get_by_role("button", name="新增账号").click()
    secret = page.locator("#one-time-password").inner_text().strip()
    assert len(secret) == 10
    assert Account.get(Account.username == "browser-new").must_change_password

    # 退出, log in with the one-time password: a new password is required first
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("账号").fill("browser-new")
    page.get_by_label("密码").fill(secret)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/password$"))
    page.get_by_label("原密码").fill(secret)
    page.locator("#new_password").fill("new-pass-123")
    page.get_by_label("确认新密码").fill("new-pass-123")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/home$"))

    # 首页: the four numbers and the chart (SVG — drawn without JavaScript)
    expect(page.locator("#stat-members")).to_have_text("0")
    expect(page.locator("#stat-grassroots")).to_have_text("1")
    expect(page.locator("#chart-caption")).to_have_text("入会人数统计图本周共计入会人数 0")
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.locator("figure.chart svg text.legend")).to_have_text(["新增", "原有"])
    page.get_by_role("link", name="本月").click()
    expect(page.locator("#chart-caption")).to_have_text("入会人数统计图本月共计入会人数 0")
    expect(page).to_have_url(re.compile(r"/home\?tab=month$"))


def test_district_dashboard_counts_members(page, city):
    from tests import factories
    for _ in range(3):
        factories.make_member(city.orgs["grassroots1"])
    log_in(page, city.account("district"))
    expect(page.locator("#stat-members")).to_have_text("3")
    page.locator("#stat-members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("会员信息")
    expect(page.locator(".pager-summary")).to_have_text("显示第 1 到第 3 条记录，总共 3 条记录")
