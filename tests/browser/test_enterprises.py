"""组织管理 → 覆盖企业 in a real browser, JavaScript on and off (issue 16 item 11): a new union adds
its first enterprise (a wrong check digit named on the field first), sees it, and removes it."""

import random

from playwright.sync_api import expect

from models.audit import AuditLog
from models.demo import uscc
from models.orgs.organizations import Enterprise
from tests.browser.helpers import log_in


def test_a_union_adds_and_removes_its_enterprise(page, city):
    union = city.orgs["grassroots1"]
    code = uscc(random.Random(11), "91")
    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="覆盖企业").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("覆盖企业")
    page.get_by_role("link", name="新增覆盖企业").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新增覆盖企业")
    page.get_by_label("企业名称").fill("上海测试实业有限公司")
    page.get_by_label("统一社会信用代码").fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".field-error")).to_have_text(["统一社会信用代码校验位不正确，请核对"])
    expect(page.get_by_label("企业名称")).to_have_value("上海测试实业有限公司")
    assert Enterprise.select().count() == 0

    page.get_by_label("统一社会信用代码").fill(code)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(union.name)
    expect(page.get_by_role("status")).to_have_text("已新增覆盖企业「上海测试实业有限公司」")
    e = Enterprise.get(Enterprise.org == union.id)
    row = page.locator(f"#enterprise-{e.id}")
    expect(row).to_contain_text(code)

    row.get_by_role("link", name="删除").click()
    expect(page.locator("#confirm-text")).to_contain_text("确定删除该覆盖企业吗")
    page.get_by_role("button", name="确定删除").click()
    expect(page.get_by_role("status")).to_have_text("已删除覆盖企业「上海测试实业有限公司」")
    expect(page.locator(f"#enterprise-{e.id}")).to_have_count(0)
    assert not Enterprise.select().exists()
    assert [a.action for a in AuditLog.for_object(union)][:2] == ["删除覆盖企业", "新增覆盖企业"]
