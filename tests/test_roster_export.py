"""导出会员: the filtered roster as Excel — the columns, the filter, formula escaping, full
numbers for accounts whose scope holds the member and masked ones for the read-only 市总工会
account, and never a member outside the account's scope."""

from datetime import datetime, time
from io import BytesIO
from urllib.parse import quote

from openpyxl import load_workbook

from models.audit import AuditLog
from models.members.roster import EXPORT_COLUMNS
from tests import factories
from tests.helpers import soup

HEADER = ["会员编号", "姓名", "性别", "有效证件类型", "证件号码", "出生日期", "移动电话", "联系地址",
          "工作单位/服务平台", "会员标签", "学历", "户籍类型", "技术等级", "工会职务", "所在工会", "入会日期",
          "用户状态", "同步会员", "可能已达退休年龄"]


def sheet_rows(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    book = load_workbook(BytesIO(response.data), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_columns_and_values(city, as_role):
    union = city.orgs["grassroots1"]
    m = factories.make_member(union, name="导出甲", mobile="13912345678", address="上海市黄浦区南京东路1号",
                              work_unit="上海某某百货有限公司", tags="农民工、劳动模范", synced=True)
    response = as_role("grassroots").get("/members/export")
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "filename*=UTF-8''" + quote("会员信息.xlsx") in response.headers["Content-Disposition"]
    header, rows = sheet_rows(response)
    assert header == HEADER == EXPORT_COLUMNS
    assert len(rows) == 1
    row = rows[0]
    p = m.person
    assert row == {"会员编号": m.member_no, "姓名": "导出甲", "性别": p.gender, "有效证件类型": "身份证",
                   "证件号码": p.id_number, "出生日期": datetime.combine(p.birth_date, time()),
                   "移动电话": "13912345678",
                   "联系地址": "上海市黄浦区南京东路1号", "工作单位/服务平台": "上海某某百货有限公司",
                   "会员标签": "农民工、劳动模范", "学历": "小学及以下", "户籍类型": "非农业", "技术等级": "无",
                   "工会职务": "工会会员", "所在工会": union.name, "入会日期": datetime(2024, 1, 1), "用户状态": "正常",
                   "同步会员": "是", "可能已达退休年龄": None}
    assert AuditLog.select().where(AuditLog.action == "导出会员").count() == 1


def test_the_lists_filter_is_applied(city, as_role):
    union = city.orgs["grassroots1"]
    for i in range(3):
        factories.make_member(union, name=f"筛选{i}", synced=bool(i % 2))
    factories.make_member(union, name="其他人", synced=True)
    client = as_role("grassroots")
    list_page = soup(client.get("/members/?name=筛选&synced=是"))
    link = next(a["href"] for a in list_page.select(".member-toolbar a") if a.get_text() == "导出会员")
    _, rows = sheet_rows(client.get(link))
    assert [r["姓名"] for r in rows] == ["筛选1"]
    bad = client.get("/members/export?status=nonsense")
    assert bad.status_code == 422


def test_formula_cells_come_out_as_text(city, as_role):
    union = city.orgs["grassroots1"]
    factories.make_member(union, name="公式", address="=HYPERLINK(\"http://x\")", work_unit="+1+2",
                          tags="@SUM(A1)")
    _, rows = sheet_rows(as_role("grassroots").get("/members/export"))
    assert rows[0]["联系地址"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["工作单位/服务平台"] == "'+1+2"
    assert rows[0]["会员标签"] == "'@SUM(A1)"
    book = load_workbook(BytesIO(as_role("grassroots").get("/members/export").data))
    assert all(c.data_type != "f" for row in book.worksheets[0].iter_rows() for c in row)


def test_full_numbers_in_scope_masked_for_the_city(city, as_role):
    m = factories.make_member(city.orgs["grassroots1"], mobile="13912345678")
    number = m.person.id_number
    for role in ("grassroots", "secondary", "district", "centre", "admin"):
        _, rows = sheet_rows(as_role(role).get("/members/export"))
        row = next(r for r in rows if r["会员编号"] == m.member_no)
        assert (row["证件号码"], row["移动电话"]) == (number, "13912345678"), role
    _, rows = sheet_rows(as_role("city").get("/members/export"))
    row = next(r for r in rows if r["会员编号"] == m.member_no)
    assert row["证件号码"] == f"{number[:4]} **** {number[-4:]}"
    assert row["移动电话"] == "139****5678"


def test_other_unions_members_are_never_exported(city, as_role):
    mine = factories.make_member(city.orgs["grassroots1"])
    sibling = factories.make_member(city.orgs["direct1"])
    elsewhere = factories.make_member(city.orgs["grassroots2"])
    _, rows = sheet_rows(as_role("grassroots").get("/members/export?status=全部"))
    assert {r["会员编号"] for r in rows} == {mine.member_no}
    _, rows = sheet_rows(as_role("district").get("/members/export"))
    assert {r["会员编号"] for r in rows} == {mine.member_no, sibling.member_no}
    assert elsewhere.member_no not in {r["会员编号"] for r in rows}
