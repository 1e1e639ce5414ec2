"""ID and card numbers a spreadsheet stored as numbers (issue 16 item 7a). A number cell keeps 15
significant digits, so an 18-digit ID number typed into one has lost its last digits — and about
one degraded number in eleven still passes the check digit. Every import that reads ID or card
numbers refuses such cells; its error file carries them back as the numbers they were (never as
18 plausible digits), so the error file uploaded again unchanged is refused the same way and
adds nobody; with the cells fixed it goes in."""

import io
import re

import pytest
from openpyxl import load_workbook

from models.enroll.claims import Claim
from models.enroll.enrollment import StatusRecord
from models.enroll.status_import import STATUS_COLUMNS
from models.io.tables import lost_digits, lost_digits_message
from models.jobs import Job
from models.members.people import OUTSIDE, Membership, Person
from models.orgs.organizations import Organization
from tests import factories
from tests.factories import ORG_IMPORT_HEADER, memberfiles, tablefiles
from tests.factories.cards import items_of
from tests.factories.coverage import claim_rows, many_covered
from tests.helpers import post_file, soup, upload_job

MESSAGE = lost_digits_message("证件号码")
ID_LIKE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{16,19}")  # an ID or card number in a cell


def held(number: str) -> float:
    """What a spreadsheet keeps of a long number typed into a number cell: 15 significant digits."""
    return float(f"{int(number):.15G}")


def as_numbers(table: list, columns: set, fmt: str, rows=None) -> tuple[bytes, str]:
    """The table written in `fmt` with the all-digit cells of `columns` stored as numbers (the data
    rows at the indexes in `rows`, default all): number cells in xlsx / xls; in a CSV the text a
    spreadsheet saves — Excel "3.10101E+17" (csv-gbk), LibreOffice "3.10101197208221E+17"."""
    header, *data = table
    wanted = [i for i, name in enumerate(header) if name in columns]
    out = [list(header)]
    for r, row in enumerate(data):
        row = list(row)
        for i in wanted:
            if (rows is None or r in rows) and str(row[i]).isdigit() and len(str(row[i])) > 15:
                number = held(row[i])
                row[i] = number if fmt in ("xlsx", "xls") else f"{number:.{6 if fmt == 'csv-gbk' else 15}G}"
        out.append(row)
    return tablefiles.write(out, fmt)


def resaved(data: bytes, fmt: str) -> tuple[bytes, str]:
    """An error file opened in a spreadsheet and saved again as `fmt`: number cells stay numbers
    (a CSV gets the number as LibreOffice shows it)."""
    sheet = load_workbook(io.BytesIO(data)).active
    table = []
    for row in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else v for v in row]
        if fmt.startswith("csv"):
            cells = [f"{v:.15G}" if isinstance(v, float) else v for v in cells]
        table.append(cells)
    return tablefiles.write(table, fmt)


def no_plausible_numbers(sheet, typed=()) -> None:
    """The refused rows of an error file carry no ID or card number that looks usable, but for the
    `typed` ones, which arrived as text (an ID ending in X cannot be a number cell)."""
    refused = [row for row in sheet.iter_rows(values_only=True) if any("末尾数字已丢失" in str(v) for v in row)]
    assert refused
    for row in refused:
        for value in row:
            assert not (isinstance(value, str) and ID_LIKE.fullmatch(value) and value not in typed), row


# --- 批量导入会员 -------------------------------------------------------------------------------------
def upload_members(client, data, name, url="/members/import", **form) -> Job:
    if url == "/members/import":
        form.setdefault("category", OUTSIDE)
    job = upload_job(client, url, data, name, **form)
    assert job.status == "已完成", job.errors
    return job


def roster(org):
    return Membership.select().where(Membership.org == org.id)


def member_table(rows, columns=memberfiles.COLUMNS):
    return [[memberfiles.HEADER.get(k, k) for k in columns]] + [[r.get(k, "") for k in columns] for r in rows]


def error_rows(client, job) -> tuple[list, object, bytes]:
    download = client.get(f"/members/import/{job.id}/errors")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    return [list(r) for r in book.active.iter_rows(values_only=True)], book, download.data


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv-gbk", "csv-utf8"])
def test_member_import_numeric_ids_error_file_refused_again_then_fixed(as_role, city, fmt):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    n = 2000
    rows = memberfiles.member_rows(n, org=org)
    numeric = [i for i, r in enumerate(rows) if r["证件号码"].isdigit() and i % 10]  # X-ending IDs stay text
    data, name = as_numbers(member_table(rows), {"证件号码*"}, fmt, rows=set(numeric))
    people = Person.select().count()

    job = upload_members(client, data, name)
    result = job.result_data
    assert (result["added"], result["failed"]) == (n - len(numeric), len(numeric))
    got, book, error_file = error_rows(client, job)
    assert [r[0] for r in got[1:]] == [rows[i]["姓名"] for i in numeric]
    assert {r[-1] for r in got[1:]} == {f"证件号码：{MESSAGE}"}
    ids = [r[2] for r in got[1:]]
    assert all(isinstance(v, float) for v in ids)  # the number as it came, a number cell
    assert ids == [float(f"{held(rows[i]['证件号码']):.{6 if fmt == 'csv-gbk' else 15}G}") for i in numeric]
    no_plausible_numbers(book.active)

    again = upload_members(client, error_file, "导入会员错误数据.xlsx")  # uploaded again unchanged
    assert (again.result_data["added"], again.result_data["failed"]) == (0, len(numeric))
    assert {r[-1] for r in error_rows(client, again)[0][1:]} == {f"证件号码：{MESSAGE}"}
    assert Person.select().count() == people + n - len(numeric) and roster(org).count() == n - len(numeric)

    sheet = book.active  # the operator types each ID number as text and uploads the file again
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 3).value = rows[numeric[r - 2]]["证件号码"]
    fixed = io.BytesIO()
    book.save(fixed)
    done = upload_members(client, fixed.getvalue(), "导入会员错误数据.xlsx")
    assert (done.result_data["added"], done.result_data["failed"]) == (len(numeric), 0)
    stored = {p for (p,) in roster(org).join(Person).select(Person.id_number).tuples()}
    assert stored == {r["证件号码"] for r in rows}


@pytest.mark.parametrize("fmt", ["xls", "xlsx", "csv-utf8"])
def test_error_file_saved_again_by_a_spreadsheet_is_still_refused(as_role, city, fmt):
    """The reported case: 300 people in a numeric .xls saved by LibreOffice; the error file opened
    and saved again (as .xls, .xlsx or .csv) is refused row by row and adds nobody."""
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    rows = [r for r in memberfiles.member_rows(330, org=org) if r["证件号码"].isdigit()][:300]
    job = upload_members(client, *as_numbers(member_table(rows), {"证件号码*"}, "xls"))
    assert (job.result_data["added"], job.result_data["failed"]) == (0, 300)
    _got, _book, error_file = error_rows(client, job)
    again = upload_members(client, *resaved(error_file, fmt))
    assert (again.result_data["added"], again.result_data["failed"]) == (0, 300)
    assert {r[-1] for r in error_rows(client, again)[0][1:]} == {f"证件号码：{MESSAGE}"}
    assert roster(org).count() == 0


def test_import_by_enterprise_code_refuses_numeric_ids_and_codes(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    enterprise = factories.make_enterprise(org)
    columns = memberfiles.COLUMNS + ["组织机构代码"]
    rows = [r for r in memberfiles.member_rows(12, org=org, 组织机构代码=enterprise.uscc) if r["证件号码"].isdigit()]
    rows[0]["组织机构代码"] = "913101151234567890"  # an all-digit code typed into a number cell
    data, name = as_numbers(member_table(rows, columns), {"证件号码*", "组织机构代码"}, "xlsx", rows={0, 1})
    job = upload_members(client, data, name, url="/members/import/by-code")
    assert (job.result_data["added"], job.result_data["failed"]) == (len(rows) - 2, 2)
    got, _book, error_file = error_rows(client, job)
    assert got[1][-1] == f"证件号码：{MESSAGE}；组织机构代码：{lost_digits_message('组织机构代码')}"
    assert got[2][-1] == f"证件号码：{MESSAGE}"
    again = upload_members(client, error_file, "错误数据.xlsx", url="/members/import/by-code")
    assert (again.result_data["added"], again.result_data["failed"]) == (0, 2)


# --- 同步会员 / 从其他工会转入 ------------------------------------------------------------------------
def test_member_compare_and_transfer_in_refuse_numeric_ids(city, as_role):
    union = city.orgs["grassroots1"]
    client = as_role("grassroots")
    m = factories.make_member(union, id_number=memberfiles.id_number(11))
    assert m.person.id_number.isdigit()
    data, name = as_numbers([["姓名", "证件号码"], [m.person.name, m.person.id_number]], {"证件号码"}, "csv-gbk")
    job = upload_job(client, "/members/sync", data, name)
    [[_row, _name, number, reason]] = job.result_data["errors"]
    assert reason == MESSAGE and lost_digits(number)
    book = load_workbook(io.BytesIO(client.get(f"/jobs/{job.id}/errors").data))
    no_plausible_numbers(book.active)
    other = factories.make_member(city.orgs["direct1"], id_number=memberfiles.id_number(21))
    data, name = as_numbers([["姓名", "证件号码", "转入原因"], [other.person.name, other.person.id_number, "调动"]],
                            {"证件号码"}, "xlsx")
    page = post_file(client, "/members/transfer-in", data, name)
    assert page.status_code < 500 and MESSAGE in page.get_data(as_text=True)
    assert other.person.id_number[:17] not in page.get_data(as_text=True)


# --- 开卡回盘导入 ----------------------------------------------------------------------------------
def test_card_return_refuses_numeric_ids_and_card_numbers_again_from_its_error_file(city, as_role):
    from models.cards import cards
    from models.cards.card_return import RETURN_COLUMNS
    from tests.factories.cards import luhn_card, make_batch
    union = city.orgs["grassroots1"]
    batch = make_batch(union, status=cards.SENT, people=3)
    items = [i for i in items_of(batch)]
    issued = "2026-01-05"
    rows = [[i.id_number, luhn_card(), issued] for i in items]
    client = as_role("district")

    def send(data, name):
        return upload_job(client, "/cards/returns", data, name)

    numeric_rows = {0, 1} if items[0].id_number.isdigit() and items[1].id_number.isdigit() else {1}
    job = send(*as_numbers([RETURN_COLUMNS, *rows], {"证件号码", "卡号"}, "xls", rows=numeric_rows))
    reasons = [e["reason"] for e in job.result_data["errors"]]
    assert len(reasons) == len(numeric_rows)
    for reason in reasons:
        assert lost_digits_message("卡号") in reason
    book = load_workbook(io.BytesIO(client.get(f"/jobs/{job.id}/errors").data))
    no_plausible_numbers(book.active, typed={rows[r][0] for r in numeric_rows if not rows[r][0].isdigit()})
    cards_in = Membership.select().count(), cards.Card.select().count()
    error_file = io.BytesIO()
    book.save(error_file)
    again = send(error_file.getvalue(), "回盘错误数据.xlsx")
    assert [e["reason"] for e in again.result_data["errors"]] == reasons
    assert (Membership.select().count(), cards.Card.select().count()) == cards_in
    sheet = book.active
    for r in range(2, sheet.max_row + 1):
        row = rows[sorted(numeric_rows)[r - 2]]
        sheet.cell(r, 1).value, sheet.cell(r, 2).value = row[0], row[1]
    fixed = io.BytesIO()
    book.save(fixed)
    done = send(fixed.getvalue(), "回盘错误数据.xlsx")
    assert done.result_data["errors"] == [] or not done.result_data.get("errors"), done.result_data
    assert cards.Card.select().where(cards.Card.card_no.in_([rows[i][1] for i in numeric_rows])).count() == len(
        numeric_rows)


# --- 给付信息导入 ----------------------------------------------------------------------------------
def test_claims_import_refuses_numeric_ids_again_from_its_error_file(city, as_role):
    from models.enroll import claims
    people = [p for p in many_covered(city, 40) if p[0].isdigit()][:30]
    rows = claim_rows(people)
    centre = as_role("centre")

    def send(data, name):
        return upload_job(centre, "/coverage/claims/import", data, name)

    job = send(*as_numbers([claims.COLUMNS, *rows], {"证件号码"}, "csv-utf8", rows={3, 4}))
    assert {e["row"]: e["reason"] for e in job.result_data["errors"]} == {5: MESSAGE, 6: MESSAGE}
    book = load_workbook(io.BytesIO(centre.get(f"/jobs/{job.id}/errors").data))
    no_plausible_numbers(book.active)
    error_file = io.BytesIO()
    book.save(error_file)
    again = send(error_file.getvalue(), "给付错误数据.xlsx")
    assert {e["row"]: e["reason"] for e in again.result_data["errors"]} == {5: MESSAGE, 6: MESSAGE}
    assert Claim.select().count() == 0
    for r in (5, 6):
        book.active.cell(r, 1).value = rows[r - 2][0]
    fixed = io.BytesIO()
    book.save(fixed)
    done = send(fixed.getvalue(), "给付错误数据.xlsx")
    assert done.result_data["imported"] == 30, done.result_data


# --- 社保状态导入 / 个人参保导入 -----------------------------------------------------------------------
def test_status_import_refuses_numeric_ids_again_from_its_error_file(as_role):
    from datetime import timedelta

    from models.base import today
    centre = as_role("centre")
    day = (today() - timedelta(days=1)).isoformat()
    numbers = [n for n in map(memberfiles.id_number, range(40)) if n.isdigit()][:5]
    rows = [[n, f"甲{i}", "正常", "在职", "已缴纳", day] for i, n in enumerate(numbers)]

    def send(data, name):
        return upload_job(centre, "/plans/imports", data, name, kind="status_import")

    job = send(*as_numbers([STATUS_COLUMNS, *rows], {"证件号码"}, "xlsx", rows={0, 1, 2}))
    assert [e["reason"] for e in job.result_data["errors"]] == [MESSAGE] * 3
    assert StatusRecord.select().count() == 2
    book = load_workbook(io.BytesIO(centre.get(f"/jobs/{job.id}/errors").data))
    no_plausible_numbers(book.active)
    error_file = io.BytesIO()
    book.save(error_file)
    again = send(error_file.getvalue(), "状态错误数据.xlsx")
    assert [e["reason"] for e in again.result_data["errors"]] == [MESSAGE] * 3
    assert StatusRecord.select().count() == 2


# --- 组织导入: 统一社会信用代码 ---------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv-gbk", "csv-utf8"])
def test_org_import_refuses_a_numeric_uscc_again_from_its_error_file(as_role, city, fmt):
    """An all-digit 统一社会信用代码 typed into a number cell: refused, even when what is left of it
    still passes the check character; the error file uploaded again is refused the same way."""
    from models.rules.uscc import clean_uscc, make_uscc
    codes = (make_uscc(f"9131011{n:010d}") for n in range(10 ** 6))
    degraded_valid = next(c for c in codes if c.isdigit() and _passes(clean_uscc, str(int(held(c)))))
    district = city.orgs["district1"].name
    rows = [ORG_IMPORT_HEADER, ["数字代码工会", district, "街道总工会", "", degraded_valid, "", "", "", "021-63301234"]]
    client = as_role("district")
    job = upload_job(client, "/orgs/import", *as_numbers(rows, {"统一社会信用代码"}, fmt))
    assert (job.result_data["imported"], job.result_data["failed"]) == (0, 1)
    page = soup(client.get(f"/jobs/{job.id}"))
    error_file = client.get(page.find("a", string="下载错误文件")["href"]).data
    got = [list(r) for r in load_workbook(io.BytesIO(error_file)).active.iter_rows(values_only=True)]
    assert got[1][-1] == lost_digits_message("统一社会信用代码")
    assert isinstance(got[1][4], float)  # the number as it came, never 18 plausible digits
    again = upload_job(client, "/orgs/import", error_file, "错误数据.xlsx")
    assert (again.result_data["imported"], again.result_data["failed"]) == (0, 1)
    assert not Organization.select().where(Organization.name == "数字代码工会").exists()


def _passes(check, value) -> bool:
    try:
        check(value)
        return True
    except ValueError:
        return False
