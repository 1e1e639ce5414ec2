"""给付信息: the centre records a claim by the form (field errors, 422) or imports thousands (all
or nothing; the error file fixed and uploaded again), only for a person whose active enrollment
covers the 给付日期; the query shows per year the 给付申请材料截止 and the claims, districts only
those of their subtree's enrollments; the audit log never holds a full ID number."""

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from models.audit import AuditLog
from models.enroll import claims, column_imports, plans
from models.enroll.claims import Claim
from models.enroll.enrollment import RETURNED, Enrollment
from models.io.tables import read_table
from models.jobs import Job
from models.rules.text import mask
from tests import factories
from tests.factories.coverage import claim_rows, enroll, many_covered, year
from tests.factories.memberfiles import id_number
from tests.helpers import post_file, soup, upload_job

HX = {"HX-Request": "true"}


@pytest.fixture
def covered(city):
    """张三丰: 2024 in 测试区1街道甲公司工会委员会 (district 1), from 2025-07-01 in
    测试区2乙公司工会委员会 (district 2); an earlier 2025 period of his was returned (released)."""
    member = factories.make_member(city.orgs["grassroots1"], name="张三丰")
    p = member.person
    enroll(p, city.orgs["grassroots1"], 2024)
    enroll(p, city.orgs["direct2"], 2025, start=date(2025, 1, 2), end=date(2025, 6, 30), status=RETURNED)
    enroll(p, city.orgs["direct2"], 2025, start=date(2025, 7, 1), mode="即时参保", period="半年")
    return p


def form(person, **changes):
    values = {"id_number": person.id_number, "name": person.name, "year": "2025", "claim_date": "2025-08-03",
              "claim_type": "住院津贴", "amount": "10360.5", "note": "住院60天"}
    values.update(changes)
    return values


def field_errors(response) -> dict:
    page = soup(response)
    out = {}
    for p in page.select("#claim-form .field-error"):
        label = p.find_previous("label")
        out[label["for"].removeprefix("c-")] = p.get_text(strip=True)
    return out


# --- the form ----------------------------------------------------------------------------------
def test_the_centre_records_a_claim_and_the_query_shows_it_with_the_deadline(as_role, covered):
    centre = as_role("centre")
    response = centre.post("/coverage/claims/new", data=form(covered))
    assert response.status_code == 302
    claim = Claim.get()
    assert (claim.amount, claim.claim_type, claim.claim_date, claim.name) == (1036050, "住院津贴", date(2025, 8, 3),
                                                                             "张三丰")
    assert claim.enrollment.start == date(2025, 7, 1) and claim.org.name == "测试区2乙公司工会委员会"
    page = soup(centre.get(response.headers["Location"]))
    years = {s.h2.get_text(strip=True): s for s in page.select("section.claim-year")}
    assert list(years) == ["2025年度", "2024年度"]
    assert years["2025年度"].select_one(".deadline").get_text() == "2027-12-31"
    assert years["2024年度"].select_one(".deadline").get_text() == "2026-12-31"
    cells = [td.get_text(strip=True) for td in years["2025年度"].select("table.claims tbody td")]
    assert cells == ["2025-08-03", "住院津贴", "10360.5元", "住院60天"]
    assert "本年度暂无给付记录" in years["2024年度"].get_text()
    shown = page.select_one("#result .person").get_text()
    assert "张*丰" in shown and mask(covered.id_number) in shown and covered.id_number not in shown


def test_recording_writes_the_audit_log_with_the_number_masked(as_role, covered):
    as_role("centre").post("/coverage/claims/new", data=form(covered))
    log = AuditLog.get(AuditLog.action == "登记给付")
    assert log.object_type == "Claim" and log.object_id == Claim.get().id
    assert covered.id_number not in log.detail and mask(covered.id_number) in log.detail_data["证件号码"]
    assert log.detail_data["给付金额(元)"] == "10360.5"


def test_an_empty_form_names_every_required_field(as_role):
    response = as_role("centre").post("/coverage/claims/new", data={})
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"id_number", "name", "year", "claim_date", "claim_type", "amount"}
    assert errors["id_number"] == "请填写证件号码" and errors["name"] == "请填写姓名"
    assert errors["claim_type"].startswith("请选择给付类型")
    assert Claim.select().count() == 0


@pytest.mark.parametrize("changes,field,message", [
    ({"amount": "12.345"}, "amount", "给付金额应为元，最多两位小数，如 10000 或 360.50"),
    ({"amount": "0"}, "amount", "给付金额须大于0"),
    ({"claim_type": "误工费"}, "claim_type", "给付类型“误工费”不正确"),
    ({"claim_date": "2025-13-01"}, "claim_date", "给付日期格式应为 年-月-日"),
    ({"claim_date": "2099-01-01", "year": "2099"}, "year", "2099年度尚未设置"),
    ({"name": "张三"}, "name", "姓名与该证件号码登记的姓名不一致"),
    ({"claim_date": "2025-03-01"}, "claim_date",
     "给付日期早于该人员2025年度的起保日期（保障期间：2025-07-01 至 2025-12-31）"),
    ({"year": "2026", "claim_date": "2026-03-01"}, "claim_date", "该人员2026年度没有有效的参保，不能登记给付"),
])
def test_wrong_fields_are_refused_with_the_reason_next_to_them(as_role, covered, changes, field, message):
    if changes.get("year") == "2026":
        year(2026)
    response = as_role("centre").post("/coverage/claims/new", data=form(covered, **changes))
    assert response.status_code == 422
    assert field_errors(response)[field].startswith(message)
    assert Claim.select().count() == 0 and not AuditLog.select().where(AuditLog.action == "登记给付").exists()


def test_a_date_in_a_released_period_is_refused(as_role, covered):
    """2025-02-01 lay in the returned (released) period: no active enrollment covers it."""
    response = as_role("centre").post("/coverage/claims/new", data=form(covered, claim_date="2025-02-01"))
    assert response.status_code == 422 and "早于该人员2025年度的起保日期" in field_errors(response)["claim_date"]


def test_a_payment_after_the_year_is_fine_until_the_claims_deadline(as_role, covered):
    """给付日期 is the day of payment: claims of 2025 are usually paid in 2026, up to the deadline."""
    from models.enroll.plans import ProtectionYear
    ProtectionYear.update(claims_deadline=date(2026, 6, 30)).where(ProtectionYear.year == 2025).execute()
    client = as_role("centre")
    late = client.post("/coverage/claims/new", data=form(covered, claim_date="2026-07-01"))
    assert late.status_code == 422
    assert field_errors(late)["claim_date"].startswith("给付日期晚于2025年度的给付申请材料截止日期（2026-06-30）")
    assert client.post("/coverage/claims/new", data=form(covered, claim_date="2026-06-30")).status_code in (200, 302)
    assert Claim.select().count() == 1


def test_a_person_not_in_the_system_is_refused(as_role):
    year(2025)
    response = as_role("centre").post("/coverage/claims/new", data={
        "id_number": id_number(999), "name": "无此人", "year": "2025", "claim_date": "2025-08-01",
        "claim_type": "重大疾病", "amount": "10000"})
    assert field_errors(response)["id_number"] == "系统中没有该证件号码的人员，不能登记给付"


def test_the_same_claim_twice_is_refused(as_role, covered):
    centre = as_role("centre")
    assert centre.post("/coverage/claims/new", data=form(covered)).status_code == 302
    again = centre.post("/coverage/claims/new", data=form(covered))
    assert again.status_code == 422 and field_errors(again)["claim_date"].startswith("该给付记录已登记")
    assert Claim.select().count() == 1


def test_htmx_posts_get_the_form_back_in_place(as_role, covered):
    centre = as_role("centre")
    bad = centre.post("/coverage/claims/new", data=form(covered, amount="abc"), headers=HX)
    assert bad.status_code == 422
    part = soup(bad)
    assert part.select_one("html") is None and part.select_one("form#claim-form") is not None
    assert part.select_one("#c-amount")["aria-invalid"] == "true"
    good = centre.post("/coverage/claims/new", data=form(covered), headers=HX)
    assert good.status_code == 204 and good.headers["HX-Redirect"].startswith("/coverage/claims?id_number=")


def test_only_the_centre_records_and_imports(as_role):
    for role in ("city", "district", "secondary", "grassroots"):
        client = as_role(role)
        assert client.get("/coverage/claims/new").status_code == 403
        assert client.post("/coverage/claims/import").status_code == 403
        assert "登记给付" not in soup(client.get("/coverage/claims")).select_one("main, body").get_text()


# --- the query's scope ---------------------------------------------------------------------------
@pytest.fixture
def paid(covered, city):
    y2024, y2025 = year(2024), year(2025)
    for y, e_org, day, kind, amount in ((y2024, "grassroots1", date(2024, 5, 6), "意外伤残", 3000000),
                                        (y2025, "direct2", date(2025, 8, 3), "住院津贴", 360000)):
        e = Enrollment.get((Enrollment.person == covered.id) & (Enrollment.year == y.id) & Enrollment.active)
        Claim.create(person=covered.id, id_number=covered.id_number, name=covered.name, year=y.id, enrollment=e.id,
                     org=city.orgs[e_org].id, claim_date=day, claim_type=kind, amount=amount)
    return covered


def claim_years(response) -> dict:
    return {s.h2.get_text(strip=True): [td.get_text(strip=True) for td in s.select("table.claims tbody td")]
            for s in soup(response).select("section.claim-year")}


Y2025 = {"2025年度": ["2025-08-03", "住院津贴", "3600元", "-"]}
Y2024 = {"2024年度": ["2024-05-06", "意外伤残", "30000元", "-"]}


@pytest.mark.parametrize("role,which,expected", [
    ("centre", 0, {**Y2025, **Y2024}),
    ("city", 0, {**Y2025, **Y2024}),
    ("district", 0, Y2024),
    ("secondary", 0, Y2024),
    ("district", 1, Y2025),
    ("grassroots", 2, {}),
])
def test_each_level_sees_the_claims_of_its_own_enrollments(as_role, paid, role, which, expected):
    response = as_role(role, which).get("/coverage/claims", query_string={"id_number": paid.id_number})
    assert response.status_code == 200
    assert claim_years(response) == expected
    if not expected:
        alert = soup(response).select_one("#result .alert").get_text(strip=True)
        assert alert == "未查询到该证件号码在本单位范围内的参保信息"
        assert "30000" not in response.get_data(as_text=True)


def test_claims_query_refuses_bad_input_and_swaps_the_fragment(as_role, paid):
    client = as_role("district")
    bad = client.get("/coverage/claims", query_string={"id_number": "1234"})
    assert bad.status_code == 422 and "证件号码：" in soup(bad).select_one("#result .alert").get_text()
    fragment = client.get("/coverage/claims", query_string={"id_number": paid.id_number.lower()}, headers=HX)
    part = soup(fragment)
    assert part.select_one("html") is None and part.find(id="result") is not None
    assert list(claim_years(fragment)) == ["2024年度"]


def test_the_centre_sets_the_claims_deadline_on_the_year_screen(as_role):
    y = year(2025)
    centre = as_role("centre")
    bad = centre.post(f"/plans/years/{y.id}", data={"section": "claims", "claims_deadline": "2025-06-30"})
    assert bad.status_code == 422 and "给付申请材料截止不能早于2025年度保障期满" in bad.get_data(as_text=True)
    assert centre.post(f"/plans/years/{y.id}", data={"section": "claims", "claims_deadline": "2028-03-31"}
                       ).status_code == 302
    assert plans.get_year(2025).claims_deadline == date(2028, 3, 31)
    assert AuditLog.get(AuditLog.action == "修改保障年度设置").detail_data["给付申请材料截止"] == ["2027-12-31",
                                                                                           "2028-03-31"]
    assert as_role("city").post(f"/plans/years/{y.id}", data={"section": "claims", "claims_deadline": "2029-01-01"}
                                ).status_code == 403
    assert plans.get_year(2025).claims_deadline == date(2028, 3, 31)


# --- the import ------------------------------------------------------------------------------------


def xlsx(rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("给付")
    sheet.append(claims.COLUMNS)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([claims.COLUMNS, *rows])
    return text.getvalue().encode(encoding)


def upload(client, data: bytes, name: str) -> Job:
    return upload_job(client, "/coverage/claims/import", data, name)


def expected_total(rows) -> int:
    return sum(claims.fen(r[5]) for r in rows)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_import_of_3000_rows(as_role, city, fmt):
    rows = claim_rows(many_covered(city, 3000))
    data = xlsx(rows) if fmt == "xlsx" else csv_bytes(rows, "gbk")
    centre = as_role("centre")
    job = upload(centre, data, f"给付.{fmt}")
    result = job.result_data
    assert job.status == "已完成" and (result["imported"], result["failed"]) == (3000, 0), result.get("summary")
    assert Claim.select().count() == 3000
    assert sum(c.amount for c in Claim.select(Claim.amount)) == expected_total(rows)
    one = Claim.get(Claim.id_number == rows[7][0])
    assert (one.claim_type, one.amount, one.claim_date, one.org_id) == (claims.CLAIM_TYPES[2], 10707,
                                                                       date(2025, 8, 8), city.orgs["direct1"].id)
    page = soup(centre.get(f"/coverage/claims/import/{job.id}"))
    assert "登记给付3000笔" in page.select_one("#import-result .alert").get_text()
    log = AuditLog.get((AuditLog.action == "给付信息导入") & (AuditLog.object_id == job.id))
    assert log.detail_data["登记"] == 3000 and not any(r[0] in log.detail for r in rows[:50])
    again = upload(centre, data, f"给付.{fmt}")  # the same file twice records nothing twice
    assert (again.result_data["imported"], again.result_data["already"]) == (0, 3000)
    assert Claim.select().count() == 3000


def test_an_import_with_errors_records_nothing_and_its_error_file_fixed_goes_in(as_role, city):
    people = many_covered(city, 3000)
    rows = claim_rows(people)
    rows[10][3] = "2024-12-01"  # before the 2025 coverage began
    rows[11][4] = "误工费"
    rows[12][1] = "别人"
    rows[13] = list(rows[14])  # a duplicate row
    rows[2999][5] = "1.234"
    centre = as_role("centre")
    job = upload(centre, xlsx(rows), "给付.xlsx")
    result = job.result_data
    assert (result["imported"], result["failed"]) == (0, 5)
    assert Claim.select().count() == 0  # all or nothing
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert reasons[12].startswith("给付日期早于该人员2025年度的起保日期")
    assert "给付类型“误工费”不正确" in reasons[13] and reasons[14] == "姓名与该证件号码登记的姓名不一致"
    assert reasons[16].startswith("与第15行重复") and "给付金额应为元" in reasons[3001]
    assert all(e["id_number"] == mask(rows[e["row"] - 2][0]) for e in result["errors"])
    page = soup(centre.get(f"/coverage/claims/import/{job.id}"))
    assert [td.get_text() for td in page.select("table.import-errors tbody tr td:first-child")] == [
        "12", "13", "14", "16", "3001"]
    book = load_workbook(io.BytesIO(centre.get(f"/jobs/{job.id}/errors").data))
    sheet = book.active
    values = [list(r) for r in sheet.values]
    assert values[0] == claims.COLUMNS + ["错误行号", "错误原因"] and len(values) == 3001  # every row, to upload again
    assert [v[-2] for v in values[1:]] == list(range(2, 3002))  # each with its row in the upload
    assert values[1][-1] in (None, "") and values[11][-1].startswith("给付日期早于")
    # the operator fixes the marked rows in the error file and uploads it again
    sheet.cell(12, 4).value = "2025-12-01"
    sheet.cell(13, 5).value = "意外身故"
    sheet.cell(14, 2).value = people[12][1]
    sheet.cell(16, 6).value = "88"
    sheet.cell(3001, 6).value = "1.23"
    out = io.BytesIO()
    book.save(out)
    fixed = upload(centre, out.getvalue(), "给付信息导入错误数据.xlsx")
    assert (fixed.result_data["imported"], fixed.result_data["failed"]) == (3000, 0), fixed.result_data
    assert Claim.select().count() == 3000
    assert Claim.get(Claim.id_number == people[10][0]).claim_date == date(2025, 12, 1)


def test_a_failure_while_recording_leaves_nothing(as_role, city, monkeypatch):
    rows = claim_rows(many_covered(city, 2500))
    original, calls = column_imports.insert_columns, []

    def failing(model, columns, *args, **kwargs):  # the first 1,000 rows written, then the disk is full
        calls.append(len(columns["person"]))
        original(model, {name: values[:1000] for name, values in columns.items()}, *args, **kwargs)
        raise RuntimeError("disk full")
    monkeypatch.setattr(column_imports, "insert_columns", failing)  # the usual file: written column by column
    job = upload(as_role("centre"), xlsx(rows), "给付.xlsx")
    assert job.status == "失败" and calls == [2500]
    assert Claim.select().count() == 0


def test_a_failure_while_recording_row_by_row_leaves_nothing(as_role, city, monkeypatch):
    rows = claim_rows(many_covered(city, 2500))
    rows[5][0] = rows[5][0][:6] + " " + rows[5][0][6:]  # a number with a space: the row-by-row path
    original, calls = claims.bulk_insert, []

    def failing(model, rows_, *args, **kwargs):  # the first 1,000 rows written, then the disk is full
        calls.append(len(rows_))
        original(model, rows_[:1000], *args, **kwargs)
        raise RuntimeError("disk full")
    monkeypatch.setattr(claims, "bulk_insert", failing)
    job = upload(as_role("centre"), xlsx(rows), "给付.xlsx")
    assert job.status == "失败" and calls == [2500]
    assert Claim.select().count() == 0


def test_a_wrong_file_is_refused_at_once(as_role):
    response = post_file(as_role("centre"), "/coverage/claims/import", b"a,b\n1,2\n", "x.csv")
    assert response.status_code == 422 and "文件缺少必需的列" in soup(response).select_one(".alert").get_text()
    empty = as_role("centre").post("/coverage/claims/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "请选择要导入的给付信息文件" in empty.get_data(as_text=True)
    assert Job.select().where(Job.kind == "claim_import").count() == 0


def test_the_template_is_a_file_the_import_reads(as_role):
    response = as_role("centre").get("/coverage/claims/import/template")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    table = read_table(response.data, claims.REQUIRED)
    assert table.header == claims.COLUMNS and table.rows == []


# --- a claim is recorded once: the rule is the database's ----------------------------------------
def test_the_same_claim_inserted_directly_twice_fails(covered):
    """The unique index (person, 给付日期, 给付类型, amount), on both databases."""
    import peewee as pw

    from models import db
    enrollment = Enrollment.get((Enrollment.person == covered.id) & (Enrollment.year == year(2025).id)
                                & Enrollment.active)
    values = {"person": covered.id, "id_number": covered.id_number, "name": covered.name, "year": enrollment.year_id,
              "enrollment": enrollment.id, "org": enrollment.org_id, "claim_date": date(2025, 8, 3),
              "claim_type": "住院津贴", "amount": 1036050}
    Claim.insert(**values).execute()
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            Claim.insert(**values).execute()
    Claim.insert(**{**values, "amount": 1036051}).execute()  # another amount: another claim
    assert Claim.select().count() == 2


def test_a_claim_recorded_before_the_number_was_corrected_is_already_recorded(as_role, covered):
    """The same claim is the same person's, whatever number it was recorded under: after a 证件号码
    correction the import counts it 已登记过 and the form refuses it — neither fails on the index."""
    from models.members.people import Person
    centre = as_role("centre")
    assert centre.post("/coverage/claims/new", data=form(covered)).status_code == 302
    corrected = id_number(4321)
    Person.update(id_number=corrected).where(Person.id == covered.id).execute()
    job = upload(centre, xlsx([[corrected, covered.name, "2025", "2025-08-03", "住院津贴", "10360.5", ""]]),
                 "给付.xlsx")
    assert job.status == "已完成", job.errors
    assert (job.result_data["imported"], job.result_data["already"]) == (0, 1)
    again = centre.post("/coverage/claims/new", data=form(covered, id_number=corrected))
    assert again.status_code == 422 and field_errors(again)["claim_date"].startswith("该给付记录已登记")
    assert Claim.select().count() == 1


def test_the_same_file_imported_twice_at_once_records_each_claim_once(committed, monkeypatch):
    """Two uploads of one file, both checked before either writes (held after the check): one records
    every claim, the other finds them recorded when the unique index refuses its write, checks its
    file again and counts them 已登记过 — never 600 claims."""
    import threading

    from models.enroll import claim_import
    from models.jobs import init_queue, run_job
    from tests.conftest import DB_URL
    from tests.helpers import race
    city = factories.make_city()
    rows = claim_rows(many_covered(city, 300))
    centre = city.account("centre")
    init_queue(DB_URL, "memory")  # queued: the two jobs run below, in two threads at once
    try:
        jobs = [claim_import.submit_import(centre, xlsx(rows), "给付.xlsx") for _ in range(2)]
    finally:
        init_queue(DB_URL, "immediate")
    both_checked = threading.Barrier(2, timeout=30)
    original, checks = column_imports.claims, []

    def held(*args, **kwargs):  # each job's first check returns only once both have checked the file
        plan = original(*args, **kwargs)
        checks.append(plan is not None)
        if len(checks) <= 2:
            both_checked.wait()
        return plan
    monkeypatch.setattr(column_imports, "claims", held)
    assert race(*[lambda job=job: run_job(job.id) for job in jobs]) == ["ok", "ok"]
    done = [Job.get_by_id(job.id) for job in jobs]
    assert [j.status for j in done] == ["已完成", "已完成"], [j.errors for j in done]
    assert sorted((j.result_data["imported"], j.result_data["already"]) for j in done) == [(0, 300), (300, 0)]
    assert checks[:2] == [True, True]  # both found every row new (the usual file's column path)
    assert Claim.select().count() == 300
    assert sum(c.amount for c in Claim.select(Claim.amount)) == expected_total(rows)
