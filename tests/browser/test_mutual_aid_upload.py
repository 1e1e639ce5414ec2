"""上传本地参保名单文件 and 建议清册导入 in a real browser, JavaScript on and off: the centre imports
a 建议清册 from its menu; the unit uploads a roster file, sees the 建议清册 name taken over, the
rejected row with its reason, and a wrong template refused on the page."""

import re

from playwright.sync_api import expect

from models.mutual_aid.batches import TO_CHECK, RosterEntry
from tests.browser.helpers import log_in, switch_account
from tests.factories import tablefiles
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import approved_code, batch_in

HEADER = ["姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "是否有社保"]


def files(tmp_path, name, rows, fmt):
    data, _ = tablefiles.write(rows, fmt)
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_centre_imports_a_registry_and_the_unit_uploads_its_roster(page, city, tmp_path):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    log_in(page, city.account("centre"))
    page.locator("nav.sidemenu").get_by_role("link", name="建议清册导入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("建议清册导入")
    payers = files(tmp_path, "payers.csv", [["单位社保编码", "证件号码", "姓名", "职退状态"],
                                            ["SB001", id_number(1), "社保姓名", "在职"]], "csv-utf8")
    page.locator("#file-aid_registry_payers").set_input_files(payers)
    page.locator("#form-aid_registry_payers").get_by_role("button", name="导入").click()
    expect(page.locator(".job-status")).to_have_text("已完成")
    expect(page.get_by_role("status")).to_contain_text("导入（新增或替换）1行")

    switch_account(page, code.account)
    page.goto(f"/mutual-aid/batches/{batch.id}/upload")
    expect(page.get_by_role("heading", level=1)).to_have_text("上传本地参保名单文件")
    wrong = files(tmp_path, "wrong.xlsx", [["姓名", "证件号码"], ["张三", id_number(1)]], "xlsx")
    page.get_by_label("选择导入文件").set_input_files(wrong)
    page.get_by_role("button", name="上传本地参保名单文件").click()
    expect(page.get_by_role("alert")).to_contain_text("模板格式不正确")

    roster = files(tmp_path, "roster.xlsx", [HEADER, ["参保人1", "居民身份证", id_number(1), "", "", "是"],
                                             ["护照人", "护照", "E7654321", "", "", "否"]], "xlsx")
    page.get_by_label("选择导入文件").set_input_files(roster)
    page.get_by_role("button", name="上传本地参保名单文件").click()
    expect(page).to_have_url(re.compile(r"/mutual-aid/batches/uploads/\d+$"))
    expect(page.locator("#count-imported")).to_have_text("1")
    expect(page.locator("#import-errors")).to_contain_text("出生日期：证件类型为非身份证的，出生日期为必填项")
    expect(page.locator("#error-file")).to_be_visible()
    entry = RosterEntry.get(RosterEntry.batch == batch.id)
    assert (entry.name, entry.imported_name, entry.employment) == ("社保姓名", "参保人1", "在职")
