"""The usual file of 个人参保导入 and 给付信息导入 checked and written column by column
(models/enroll/column_imports.py) writes what the row-by-row path writes; any other file takes the
row-by-row path; `read_columns` reads what `read_table` reads."""

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from models import is_postgres
from models.enroll import column_imports, plans
from models.enroll.claims import Claim
from models.enroll.enrollment import Enrollment
from models.enroll.status_import import INDIVIDUAL_COLUMNS
from models.io.bulk import insert_columns, select_among
from models.io.tables import read_columns, read_table, records
from models.members.people import Person
from models.rules.text import _NOT_PLAIN
from tests import factories
from tests.factories.coverage import claim_rows, many_covered, year
from tests.factories.memberfiles import id_number
from tests.helpers import upload_job, xlsx_sheet

xlsx = xlsx_sheet


def counted(monkeypatch, name: str, off: bool = False) -> list:
    """Calls of column_imports.<name> (the fast path's check); `off`: it answers None (row path)."""
    calls, original = [], getattr(column_imports, name)

    def check(*args, **kwargs):
        calls.append(1)
        return None if off else original(*args, **kwargs)
    monkeypatch.setattr(column_imports, name, check)
    return calls


def enrollments() -> list:
    return sorted(Enrollment.select(Person.id_number, Person.name, Person.gender, Person.birth_date, Person.id_type,
                                    Enrollment.year, Enrollment.type, Enrollment.start, Enrollment.end,
                                    Enrollment.period, Enrollment.fee, Enrollment.org, Enrollment.source,
                                    Enrollment.channel, Enrollment.mode, Enrollment.active)
                  .join(Person).tuples())


def test_individual_file_column_by_column_writes_what_the_row_path_writes(city, as_role, monkeypatch):
    plans.create_year(2027)
    plans.create_year(2028)
    member = factories.make_member(city.orgs["grassroots1"])  # already registered: not registered again
    rows = [(member.person.id_number, member.person.name, "2027", "A", "2027-03-01", "2027-12-31")]
    rows += [(id_number(200 + i), f"个人{i}", "2027" if i % 3 else "2028年", "ab"[i % 2], f"202{7 + (i % 3 == 0)}-0"
              f"{1 + i % 9}-01", f"202{7 + (i % 3 == 0)}-12-31") for i in range(40)]
    rows.append((id_number(200), "个人0", "2027", "A", "2027-01-01", "2027-12-31"))  # the same person, another year
    data = xlsx(INDIVIDUAL_COLUMNS, rows)
    centre = as_role("centre")
    people = Person.select().count()
    row_path = counted(monkeypatch, "individual", off=True)
    job = upload_job(centre, "/plans/imports", data, "个人.xlsx", kind="individual_import")
    assert (job.result_data["imported"], job.result_data["failed"], row_path) == (42, 0, [1])
    by_rows = enrollments()
    assert Person.select().count() == people + 40
    Enrollment.delete().execute()
    Person.delete().where(Person.id != member.person.id).execute()
    monkeypatch.undo()
    fast = counted(monkeypatch, "individual")
    applied = []
    monkeypatch.setattr(column_imports, "apply_individual",
                        lambda plan, original=column_imports.apply_individual: applied.append(1) or original(plan))
    job = upload_job(centre, "/plans/imports", data, "个人.xlsx", kind="individual_import")
    assert (job.result_data["imported"], job.result_data["failed"], fast, applied) == (42, 0, [1], [1])
    assert job.result_data["summary"] == "共42行，导入个人参保42人。"
    assert enrollments() == by_rows and len(by_rows) == 42


def test_an_individual_file_with_a_refused_row_takes_the_row_path(city, as_role, monkeypatch):
    plans.create_year(2027)
    rows = [(id_number(300 + i), f"个人{i}", "2027", "A", "2027-01-01", "2027-12-31") for i in range(3)]
    rows.append((id_number(303), "", "2027", "A", "2027-01-01", "2027-12-31"))
    applied = []
    monkeypatch.setattr(column_imports, "apply_individual", lambda plan: applied.append(plan))
    job = upload_job(as_role("centre"), "/plans/imports", xlsx(INDIVIDUAL_COLUMNS, rows), "个人.xlsx",
                     kind="individual_import")
    assert (job.result_data["imported"], job.result_data["failed"], applied) == (3, 1, [])
    assert "姓名未填写" in job.result_data["errors"][0]["reason"]


CLAIM_HEADER = ["证件号码", "姓名", "保障年度", "给付日期", "给付类型", "给付金额(元)", "备注"]


def claims_written() -> list:
    return sorted(Claim.select(Claim.person, Claim.id_number, Claim.name, Claim.year, Claim.enrollment, Claim.org,
                               Claim.claim_date, Claim.claim_type, Claim.amount, Claim.note, Claim.created_by)
                  .tuples())


def claims_both_ways(monkeypatch, centre, data: bytes, n: int):
    """给付信息导入 of `data` by the row path (the column path switched off), the claims deleted again,
    then by the column path: (the rows the row path wrote, its job, the column path's job, the
    column path's insert calls). Each path imports all n rows."""
    row_path = counted(monkeypatch, "claims", off=True)
    first = upload_job(centre, "/coverage/claims/import", data, "给付.xlsx")
    assert (first.result_data["imported"], row_path) == (n, [1])
    by_rows = claims_written()
    Claim.delete().execute()
    monkeypatch.undo()
    inserted = []
    original = column_imports.insert_claims
    monkeypatch.setattr(column_imports, "insert_claims",
                        lambda model, columns, account: inserted.append(1) or original(model, columns, account))
    job = upload_job(centre, "/coverage/claims/import", data, "给付.xlsx")
    assert (job.result_data["imported"], inserted) == (n, [1])
    return by_rows, first, job, inserted


def test_claim_file_column_by_column_writes_what_the_row_path_writes(city, as_role, monkeypatch):
    rows = claim_rows(many_covered(city, 60))
    centre, data = as_role("centre"), xlsx(CLAIM_HEADER, rows)
    by_rows, first, job, inserted = claims_both_ways(monkeypatch, centre, data, 60)
    assert job.result_data["summary"] == first.result_data["summary"]
    assert claims_written() == by_rows and len(by_rows) == 60
    # the same file again: recorded before — the row path counts it, nothing written twice
    again = upload_job(centre, "/coverage/claims/import", data, "给付.xlsx")
    assert (again.result_data["imported"], again.result_data["already"], inserted) == (0, 60, [1])
    assert Claim.select().count() == 60


def test_a_claim_outside_the_coverage_takes_the_row_path(city, as_role, monkeypatch):
    rows = claim_rows(many_covered(city, 5))
    rows[2][1] = "别人"  # not the registered name
    inserted = []
    monkeypatch.setattr(column_imports, "insert_claims", lambda model, columns, account: inserted.append(columns))
    job = upload_job(as_role("centre"), "/coverage/claims/import", xlsx(CLAIM_HEADER, rows), "给付.xlsx")
    assert (job.result_data["imported"], job.result_data["failed"], inserted) == (0, 1, [])
    assert "姓名与该证件号码登记的姓名不一致" in job.result_data["errors"][0]["reason"]


def test_read_columns_reads_what_read_table_reads():
    book = Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["*证件号码", "姓名", "错误原因", "数量", "日期", "姓名"])
    sheet.append([" 310101 ", "甲", "旧原因", 12, datetime(2025, 3, 1), "乙"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["310102", " 丙 ", None, 3.5, date(2025, 1, 2), None])
    sheet.append(["310103", None, None, 310101197001010011, None, "丁"])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    table, columns = read_table(data, ["证件号码"]), read_columns(data, ["证件号码"])
    assert columns.header == table.header and columns.rows == list(records(table))
    assert columns.numbers == [3, 5, 6] and columns.columns["姓名"] == ["乙", "", "丁"]
    csv = "证件号码,姓名\n310101,甲\n,\n310102\n".encode()
    table, columns = read_table(csv, ["证件号码"]), read_columns(csv, ["证件号码"])
    assert columns.rows == list(records(table)) and columns.columns["姓名"] == ["甲", ""]


def test_claims_of_people_covered_in_other_years_named_in_full_width_and_paid_twice(city, as_role, monkeypatch):
    """The fast path's lookups (claims.py): the people reached from json_each (a person listed twice
    looked up once), only the file's year's enrollments joined, a registered name that differs
    from the file's by normalize() only — the same writes as the row path."""
    people = many_covered(city, 6)
    other = year(2024)
    ptype = plans.types_of(other)[0]
    for num, _ in people[:3]:  # also covered in 2024: the 2025 enrollment is the claim's
        Enrollment.create(person=Person.get(Person.id_number == num).id, year=other.id, org=city.orgs["direct1"].id,
                          channel="会员卡参保", mode="集中参保", type=ptype.id, start=date(2024, 1, 1),
                          end=date(2024, 12, 31), period="全年", active=True)
    Person.update(name="员工１").where(Person.id_number == people[1][0]).execute()  # 员工1 once normalize()d
    rows = claim_rows(people)
    rows.append([people[0][0], people[0][1], "2025", "2025-11-02", rows[0][4], "50.00", ""])  # paid twice
    by_rows, _, _, _ = claims_both_ways(monkeypatch, as_role("centre"), xlsx(CLAIM_HEADER, rows), 7)
    assert claims_written() == by_rows and len(by_rows) == 7
    assert {e for (e,) in Claim.select(Claim.enrollment).tuples()} == \
        {e.id for e in Enrollment.select().where(Enrollment.start == date(2025, 1, 1))}


def test_select_among_gives_a_row_a_distinct_value():
    Person.insert_many([{"id_number": id_number(900 + i), "name": f"甲{i}", "gender": "男"}
                        for i in range(3)]).execute()
    wanted = [id_number(902), id_number(900), id_number(902), id_number(999)]
    query = select_among(Person.id_number, wanted, Person.id_number, Person.name)
    assert sorted(query.tuples()) == [(id_number(900), "甲0"), (id_number(902), "甲2")]
    assert list(select_among(Person.id_number, [], Person.id).tuples()) == []
    sql = query.sql()[0]
    assert ("= ANY" in sql) if is_postgres() else ("CROSS JOIN" in sql and "IN (SELECT" not in sql)


def test_plain_text_search_finds_what_normalize_changes():
    """_NOT_PLAIN (one character class and two spaces) flags exactly the text normalize() changes
    beyond strip(): every whitespace character, full-width forms, two spaces."""
    before = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]|\s\s|[^\S ]")  # the pattern it replaces
    for c in [*map(chr, range(0x3100)), "\uff10", "\uff3a", "\uff5a", "\uff5b", "\u205f\u205f"]:
        for text in (f"张{c}三", f"张 {c}三"):
            assert bool(_NOT_PLAIN.search(text)) == bool(before.search(text)), repr(text)


def test_insert_columns_refuses_columns_of_different_lengths():
    """A short column would end PostgreSQL's COPY lines early (rows silently missing): refused,
    nothing written, on both databases."""
    numbers = [id_number(950), id_number(951)]
    with pytest.raises(ValueError):
        insert_columns(Person, {"id_number": numbers, "name": ["甲"], "gender": ["男", "女"]})
    assert Person.select().where(Person.id_number.in_(numbers)).count() == 0
