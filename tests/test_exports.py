"""Exports as an office worker opens them (issue 16 item 19a): real date cells with a date
format, the formula guard only where a spreadsheet would run something, and a readable ASCII
file name beside the UTF-8 one in every download."""

import re
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from models.io.excel import DATE_FORMAT, DATETIME_FORMAT, export_row, safe_cell
from tests import factories
from views.access import content_disposition

ASCII_NAME = re.compile(r'(?:^|;\s*)filename="([^"]+)"')


def ascii_name(response) -> str:
    header = response.headers["Content-Disposition"]
    assert header.isascii(), header
    match = ASCII_NAME.search(header)
    assert match, header
    return match.group(1)


@pytest.mark.parametrize("value,shown", [
    ("-", "-"), ("+", "+"), ("@", "@"), ("=", "="), ("", ""), ("上海-浦东", "上海-浦东"),
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), (-5, -5), (-0.5, -0.5), (None, None),
])
def test_the_formula_guard_touches_only_what_a_spreadsheet_would_run(value, shown):
    assert safe_cell(value) == shown


def test_export_row_writes_dates_as_date_cells_and_text_as_text():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append(export_row(sheet, [date(1972, 8, 22), datetime(2026, 12, 6, 9, 30, 15), "310101197208221234",
                                    "-", "=1+1", None, 12]))
    buffer = BytesIO()
    book.save(buffer)
    row = next(load_workbook(BytesIO(buffer.getvalue())).active.iter_rows())
    assert row[0].value == datetime(1972, 8, 22) and row[0].number_format == DATE_FORMAT == "yyyy-mm-dd"
    assert row[1].value == datetime(2026, 12, 6, 9, 30, 15)
    assert row[1].number_format == DATETIME_FORMAT == "yyyy-mm-dd hh:mm"
    assert (row[2].value, row[2].number_format) == ("310101197208221234", "@")
    assert (row[3].value, row[4].value, row[5].value, row[6].value) == ("-", "'=1+1", None, 12)
    assert row[6].data_type == "n" and all(c.data_type != "f" for c in row)


@pytest.mark.parametrize("name,fallback", [
    ("会员信息.xlsx", "export-20261206.xlsx"),
    ("办卡批次KB202612060001.xlsx", "KB202612060001.xlsx"),
    ("2027年度参保人员名单_202612061030.xlsx", "export-20261206.xlsx"),
    ("report.pdf", "report.pdf"),
    ("告知书.pdf", "export-20261206.pdf"),
])
def test_content_disposition_has_a_readable_ascii_fallback(app, name, fallback):
    import time_machine
    with time_machine.travel(datetime(2026, 12, 6, 10, 0), tick=False):
        header = content_disposition(name)
    assert header.isascii()
    assert header.startswith("attachment; ")
    assert f'filename="{fallback}"' in header
    from urllib.parse import quote
    assert header.endswith("filename*=UTF-8''" + quote(name))
    assert content_disposition(name, "members").startswith('attachment; filename="members-')
    assert content_disposition(name, inline=True).startswith("inline; ")


def test_member_export_dates_lone_dash_and_file_name(city, as_role):
    union = city.orgs["grassroots1"]
    m = factories.make_member(union, name="日期甲", address="=1+1", synced=None)
    response = as_role("grassroots").get("/members/export")
    assert ascii_name(response).endswith(".xlsx") and ascii_name(response) != ".xlsx"
    sheet = load_workbook(BytesIO(response.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["出生日期"].value == datetime.combine(m.person.birth_date, datetime.min.time())
    assert row["出生日期"].number_format == "yyyy-mm-dd"
    assert (row["入会日期"].value, row["入会日期"].number_format) == (datetime(2024, 1, 1), "yyyy-mm-dd")
    assert row["同步会员"].value == "-"  # a lone dash is not a formula
    assert row["联系地址"].value == "'=1+1"
    assert row["证件号码"].number_format == "@"


def test_audit_export_time_is_a_date_cell_and_its_download_has_an_ascii_name(app, city):
    from models.audit import AuditLog
    from models.jobs import Job
    admin_account = city.account("admin")
    AuditLog.record("导出会员", object_type="Membership", reason="-", account=admin_account)
    job = Job.submit("audit_export", {}, account=admin_account)
    client = app.test_client()
    factories.login(client, admin_account)
    response = client.get(f"/jobs/{job.id}/download")
    assert response.status_code == 200
    assert re.fullmatch(r"audit-export-\d{8}\.xlsx", ascii_name(response))
    sheet = load_workbook(BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]][0] == "时间"
    row = next(r for r in sheet.iter_rows(min_row=2) if r[5].value == "导出会员")
    assert isinstance(row[0].value, datetime) and row[0].number_format == "yyyy-mm-dd hh:mm"
    assert row[8].value == "-"  # 原因: a lone dash, not escaped


@pytest.mark.parametrize("role,url", [
    ("grassroots", "/members/import/template"), ("grassroots", "/members/import/by-code/template"),
    ("grassroots", "/members/sync/template"), ("district", "/orgs/import/template"),
    ("centre", "/coverage/claims/import/template"), ("centre", "/cards/returns/template"),
])
def test_every_template_download_has_a_readable_ascii_file_name(as_role, role, url):
    response = as_role(role).get(url)
    assert response.status_code == 200, url
    name = ascii_name(response)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]*\.xlsx", name), name
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
