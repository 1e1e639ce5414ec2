"""组织管理 → 修改信息 in a real browser, with JavaScript on and off."""

import re

from playwright.sync_api import expect

from models.audit import AuditLog
from models.orgs.organizations import Organization
from tests.browser.helpers import log_in


def open_edit_form(page):
    page.locator("nav.sidemenu").get_by_role("link", name="修改信息").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改信息")
    expect(page).to_have_url(re.compile(r"/orgs/mine/edit$"))


def test_edit_own_organisation_and_see_it_in_the_log(page, city):
    org = city.orgs["grassroots1"]
    log_in(page, city.account("grassroots"))
    open_edit_form(page)
    expect(page.get_by_label("组织名称")).to_have_value(org.name)
    page.get_by_label("单位地址").fill("上海市黄浦区南京东路100号")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("修改成功")
    expect(page.get_by_label("单位地址")).to_have_value("上海市黄浦区南京东路100号")
    expect(page.get_by_label("联系电话")).to_have_value("13912345678")
    saved = Organization.get_by_id(org.id)
    assert (saved.address, saved.phone) == ("上海市黄浦区南京东路100号", "13912345678")

    # 组织信息 → 本单位: the 操作日志 panel shows who changed what.
    page.locator("nav.sidemenu").get_by_role("link", name="组织信息").click()
    page.get_by_role("link", name=org.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(org.name)
    log = page.locator("#audit-log")
    expect(log.get_by_role("heading")).to_have_text("操作日志")
    row = log.locator("tbody tr").first
    expect(row).to_contain_text("修改组织信息")
    expect(row).to_contain_text(city.account("grassroots").username)
    expect(row).to_contain_text("单位地址：（空） → 上海市黄浦区南京东路100号")
    expect(row).to_contain_text("联系电话：021-12345678 → 13912345678")


def test_invalid_credit_code_names_the_field_and_changes_nothing(page, city):
    org = city.orgs["grassroots1"]
    before = Organization.get_by_id(org.id).__data__
    log_in(page, city.account("grassroots"))
    open_edit_form(page)
    page.get_by_label("统一社会信用代码").fill("123")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("请修改标红的项目后再保存")
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text(["统一社会信用代码：统一社会信用代码应为18位"])
    expect(page.locator(".field-error")).to_have_text(["统一社会信用代码应为18位"])
    expect(page.get_by_label("统一社会信用代码")).to_have_attribute("aria-invalid", "true")
    # What the user typed is kept so it can be corrected.
    expect(page.get_by_label("联系电话")).to_have_value("13912345678")
    expect(page.get_by_role("status")).to_have_count(0)
    assert Organization.get_by_id(org.id).__data__ == before
    assert AuditLog.for_object(org).count() == 0
