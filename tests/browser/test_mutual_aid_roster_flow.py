"""参保批次管理 → 集中参保办理 → 参保清册 in a real browser, JavaScript on and off (seed 004 pages 21–30,
参保状态说明): 获取“会员库”本单位工会会员名单, the 职退状态 filter, 设置在职, 姓名匹配异常，请人工确认,
移除, then 批次删除 (asked inline with JavaScript, on its own page without)."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from models.base import now, today
from models.mutual_aid import years
from models.mutual_aid.batches import AidBatch, RosterEntry
from models.mutual_aid.registry import RegistryPayer
from models.mutual_aid.years import AidWindow
from tests import factories
from tests.browser.helpers import log_in
from tests.factories.mutual_aid import aid_year, approved_code


def test_central_roster_from_the_member_database_to_batch_delete(page, city, js):
    code = approved_code(city, 1)
    year = aid_year(years.year_of(today(), years.CENTRAL))
    AidWindow.update(starts=now() - timedelta(days=1), ends=now() + timedelta(days=1)).where(
        (AidWindow.year == year.id) & (AidWindow.kind == years.CENTRAL)).execute()
    union = city.orgs["grassroots1"]
    zhang = factories.make_member(union, name="张三")
    factories.make_member(union, name="李四")
    RegistryPayer.create(social_code="SB01", id_number=zhang.person.id_number, name="张叁", employment="在职")

    log_in(page, code.account)
    page.locator("nav.sidemenu").get_by_role("link", name="参保批次管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保批次管理")
    page.get_by_role("link", name="集中参保办理").click()
    page.get_by_label("参保单位名称").fill(code.unit_name)
    page.get_by_role("button", name="确定操作").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保清册")

    page.get_by_role("button", name="获取“会员库”本单位工会会员名单").click()
    expect(page.locator(".flash, .alert").filter(has_text="已添加2名参保人员").first).to_be_visible()
    expect(page.locator("#roster tbody tr")).to_have_count(2)

    page.get_by_label("职退状态").select_option("-")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#roster tbody tr")).to_have_count(1)
    expect(page.locator("#roster tbody tr").first).to_contain_text("李四")
    page.get_by_role("button", name="设置在职 李四").click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator(".flash, .alert").filter(has_text="已将1名人员设置为在职").first).to_be_visible()
    assert {e.employment for e in RosterEntry.select()} == {"在职"}

    page.get_by_role("link", name="姓名匹配异常，请人工确认").click()
    page.get_by_label(re.compile("张三（.*会员库姓名")).check()
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保清册")
    expect(page.locator("#name-check")).to_have_count(0)
    assert RosterEntry.get(RosterEntry.id_number == zhang.person.id_number).name == "张三"

    page.get_by_role("button", name="移除 李四").click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator("#roster tbody tr")).to_have_count(1)
    assert [e.name for e in RosterEntry.select()] == ["张三"]

    page.locator("nav.sidemenu").get_by_role("link", name="参保批次管理").click()
    batch = AidBatch.get()
    page.locator(f"#batch-{batch.id}").get_by_role("link", name="批次删除").click()
    if js:  # asked in the row, the list stays
        expect(page.get_by_role("heading", level=1)).to_have_text("参保批次管理")
    else:
        expect(page.get_by_role("heading", level=1)).to_have_text("批次删除")
    expect(page.locator("#confirm-text")).to_contain_text("1名参保人员信息全部删除")
    page.get_by_role("button", name="确定删除").click()
    expect(page.locator(".flash, .alert").filter(has_text=re.compile("已删除.*集中参保批次")).first).to_be_visible()
    assert AidBatch.select().count() == 0 and RosterEntry.select().count() == 0
