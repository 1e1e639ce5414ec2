"""参保编码申请 → 参保编码审核 in a real browser, JavaScript on and off (seed 004 pages 12–16): the
union fills the form, uploads two files and removes one, 获取验证码 (the code read from the outbox),
submits; the centre approves with a typed code; the union sees the code."""

import re

from playwright.sync_api import expect

from models.mutual_aid.codes import CodeFile, InsuranceCode
from tests.browser.helpers import log_in, switch_account
from tests.factories.mutual_aid import outbox_code, png, uscc


def test_apply_then_the_centre_approves_and_the_code_shows(app, page, city, tmp_path):
    licence, extra = tmp_path / "营业执照.png", tmp_path / "多余的图片.png"
    licence.write_bytes(png())
    extra.write_bytes(png())
    union = city.account("grassroots")
    log_in(page, union)
    page.goto("/workbench")
    page.get_by_role("list", name="在职职工互助保障").get_by_role("link", name="参保编码申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参保编码申请")
    page.get_by_role("link", name="申请参保编码").click()
    page.get_by_label("单位名称").fill("浏览器互助测试有限公司")
    page.get_by_label("统一社会信用代码").fill(uscc(88))
    page.get_by_label("单位地址").fill("上海市静安区浏览器路1号")
    page.get_by_label("联系人").fill("周八")
    page.get_by_label("联系电话").fill("13911112222")
    page.get_by_label("选择上传").set_input_files([str(licence), str(extra)])
    page.get_by_role("button", name="上传文件").click()
    expect(page.locator("#kept-files li")).to_have_count(2)
    page.get_by_role("button", name="删除 多余的图片.png").click()
    expect(page.locator("#kept-files li")).to_have_count(1)
    expect(page.get_by_label("单位名称")).to_have_value("浏览器互助测试有限公司")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_have_text("验证码已发送至139****2222，5分钟内有效")
    expect(page.locator("#kept-files li")).to_have_count(1)
    page.get_by_label("短信验证码").fill(outbox_code(app, "13911112222"))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#code-status")).to_have_text("申请中")
    code = InsuranceCode.get(InsuranceCode.account == union.id)
    assert [f.file_name for f in CodeFile.select().where(CodeFile.code == code.id)] == ["营业执照.png"]

    switch_account(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="参保编码审核").click()
    page.get_by_role("row", name=re.compile("浏览器互助测试有限公司")).get_by_role("link", name="审核").click()
    expect(page.locator("#code-file-list a").first).to_have_text("营业执照.png")
    page.get_by_label("参保编码").fill("HZ88000001")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#code-status")).to_have_text("审核通过")

    switch_account(page, union)
    page.locator("nav.sidemenu").get_by_role("link", name="参保编码申请").click()
    expect(page.locator("#code-number")).to_have_text("HZ88000001")
    expect(page.locator("#code-status")).to_have_text("审核通过")
