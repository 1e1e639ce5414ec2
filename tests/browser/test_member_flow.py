"""会员管理 in a real browser, JavaScript on and off: 批量导入 with the error file downloaded,
fixed and uploaded again; 新增会员 then 身份证号搜索; 转出 to the 临时工会 approved in 会员转出审核."""

import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from models.demo import id_number
from models.members.people import Membership, Person
from tests import factories
from tests.browser.helpers import log_in
from tests.factories.tablefiles import write


def _rows(union, numbers):
    header = ["姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*", "所在工会*", "工会编号*",
              "工作单位/服务平台", "会员标签"]
    people = [("浏览甲", numbers[0], "13900000001", "男"), ("浏览乙", numbers[1], "13900000002", "女"),
              ("浏览丙", numbers[2], "13900000003", "男")]
    return [header] + [[n, "身份证", i, m, g, union.name, union.union_no, "上海浏览器测试有限公司营业部", ""]
                       for n, i, m, g in people]


def test_import_then_fix_the_error_file_and_upload_it_again(page, city, tmp_path):
    import random
    from datetime import date
    rng = random.Random(5)
    union = city.orgs["grassroots1"]
    good = [id_number(rng, date(1990, 1, 1 + i), i % 2 == 0) for i in range(3)]
    bad = good[2][:-1] + ("0" if good[2][-1] != "0" else "1")  # wrong check digit
    data, _ = write(_rows(union, [good[0], good[1], bad]), "xlsx")
    upload = tmp_path / "会员导入.xlsx"
    upload.write_bytes(data)

    log_in(page, city.account("grassroots"))
    page.locator("nav.sidemenu").get_by_role("link", name="会员信息").click()
    page.get_by_role("link", name="批量导入会员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入会员")
    page.get_by_label("选择导入文件").set_input_files(str(upload))
    page.get_by_label("上传会员数据类型").select_option("企业外入会")
    page.get_by_role("button", name="导入会员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("查看导入会员结果")
    expect(page.locator(".job-status")).to_have_text("已完成")
    expect(page.locator("#count-added")).to_have_text("2")
    expect(page.locator("#import-errors")).to_contain_text("校验位")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误数据").click()
    fixed = tmp_path / "错误数据.xlsx"
    download.value.save_as(fixed)
    book = load_workbook(fixed)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    id_col = next(i for i, h in enumerate(header, start=1) if h and "证件号码" in h)
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, id_col).value == bad)
    sheet.cell(row, id_col).value = good[2]
    book.save(fixed)

    page.get_by_role("link", name="导入会员").first.click()
    page.get_by_label("选择导入文件").set_input_files(str(fixed))
    page.get_by_label("上传会员数据类型").select_option("企业外入会")
    page.get_by_role("button", name="导入会员").click()
    expect(page.locator(".job-status")).to_have_text("已完成")
    expect(page.locator("#count-added")).to_have_text("1")
    held = (Membership.select().join(Person)
            .where((Membership.org == union.id) & Person.id_number.in_(good)).count())
    assert held == 3


def test_add_a_member_and_find_it_by_id_number(page, city):
    import random
    from datetime import date
    number = id_number(random.Random(9), date(1988, 6, 6), False)
    log_in(page, city.account("grassroots"))
    page.goto("/members/new")
    page.get_by_label("姓名").fill("浏览新增")
    page.get_by_label("证件号码").fill(number.lower())
    page.get_by_label("联系地址").fill("上海市黄浦区浏览路1号")
    page.get_by_label("移动电话").fill("139 1111 2222")
    page.get_by_role("button", name="提交").click()  # 学历 / 户籍类型 / 技术等级 still at 请选择
    expect(page.locator("#member-form .field-error")).to_have_text(["请选择学历", "请选择户籍类型", "请选择技术等级"])
    page.get_by_label("学历").select_option("本科")
    page.get_by_label("户籍类型").select_option("农业")
    page.get_by_label("技术等级").select_option("无")
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/members/\d+$"))  # the new member's 详情
    page.goto("/members/")
    page.get_by_placeholder("身份证号搜索").fill(number)
    page.get_by_role("button", name="查询").click()
    rows = page.locator("table.member-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("浏览新增")
    expect(page.locator(".pager-summary")).to_have_text("显示第 1 到第 1 条记录，总共 1 条记录")
    member = Membership.select().join(Person).where(Person.id_number == number).get()
    assert member.status == "正常" and member.mobile == "13911112222" and len(member.member_no) == 10
    assert (member.education, member.household, member.person.gender) == ("本科", "农业", "女")


def test_transfer_to_the_temporary_union_approved_by_the_street_union(page, city):
    member = factories.make_member(city.orgs["grassroots1"], name="浏览离职")
    temporary = city.orgs["temporary1"]
    log_in(page, city.account("grassroots"))
    page.goto(f"/members/{member.id}/transfer")
    page.get_by_role("button", name=f"转入{temporary.name}").click()
    expect(page.get_by_text("已提交转移申请")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    log_in(page, city.account("secondary"))
    page.locator("nav.sidemenu").get_by_role("link", name="会员转出审核").click()
    page.get_by_role("row", name=re.compile("浏览离职")).get_by_role("button", name="通过").click()
    expect(page.get_by_text("已转出审核通过：浏览离职")).to_be_visible()
    moved = Membership.get((Membership.person == member.person_id) & (Membership.status == "正常"))
    assert moved.org_id == temporary.id and moved.member_no == member.member_no
