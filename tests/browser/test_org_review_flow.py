"""组织导入 (file upload → job page → result) and 组织审核 (submit → approve), in a real browser
with JavaScript on and off."""

import re

from playwright.sync_api import expect

from models.orgs.organizations import Organization
from tests.browser.helpers import log_in


def test_import_a_file_and_see_the_result(page, city, tmp_path):
    district = city.orgs["district1"]
    csv = tmp_path / "组织.csv"
    csv.write_text("组织名称,上级组织,工会类型\n"
                   f"浏览器导入街道总工会,{district.name},街道总工会\n"
                   "浏览器导入公司工会委员会,浏览器导入街道总工会,工会委员会\n", encoding="utf-8")
    log_in(page, city.account("district"))
    page.locator("nav.sidemenu").get_by_role("link", name="组织导入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("组织导入")
    page.get_by_label("选择文件").set_input_files(str(csv))
    page.get_by_role("button", name="上传").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator(".job-status")).to_have_text("已完成")
    expect(page.get_by_role("status")).to_contain_text("成功导入2个组织")
    child = Organization.get(Organization.name == "浏览器导入公司工会委员会")
    assert child.parent.name == "浏览器导入街道总工会" and district.contains(child.id)


def test_secondary_submits_district_approves(page, city):
    street = city.orgs["secondary1"]
    log_in(page, city.account("secondary"))
    page.goto(f"/orgs/{street.id}/new")
    page.get_by_label("组织名称").fill("浏览器审核公司工会委员会")
    page.get_by_label("工会类型").select_option("工会委员会")
    page.get_by_label("联系人").fill("钱七")
    page.get_by_label("联系电话").fill("13822223333")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建组织：浏览器审核公司工会委员会")
    assert not Organization.select().where(Organization.name == "浏览器审核公司工会委员会").exists()
    page.get_by_role("button", name="退出").click()

    log_in(page, city.account("district"))
    page.locator("nav.sidemenu").get_by_role("link", name="组织审核").click()
    page.get_by_role("row", name=re.compile("浏览器审核公司工会委员会")).get_by_role("link", name="审核").click()
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_text("已审核通过")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("已通过")
    assert Organization.get(Organization.name == "浏览器审核公司工会委员会").parent_id == street.id
