"""批量导入 / 组织机构代码导入会员: templates, thousands of rows in every format, per-row reasons, the
error Excel fixed and uploaded again, nothing half-written, a killed job resumed, the upload
types, 会员审核, scope, progress polling, 历史导入记录."""

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from models.audit import AuditLog
from models.base import DomainError, today
from models.io.tables import NumericText
from models.jobs import DONE, QUEUED, RUNNING, Job, JobChunk, JobContext, init_queue, run_job, sweep_interrupted
from models.members import counts as stats
from models.members import member_import as importer
from models.members import member_review, members, people
from models.members.people import ENTERPRISE, FLEXIBLE, NORMAL, OUTSIDE, PENDING, TRANSFER_IN, Membership, Person
from models.orgs.organizations import Organization
from models.rules.idnumber import CHECK_MESSAGE, check_digit
from models.storage import stored_file
from tests import factories
from tests.conftest import DB_URL
from tests.factories import memberfiles
from tests.helpers import ImportRuns, ProcessDied, job_of, post_file, soup

TEMPLATE = ["姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*", "所在工会*", "工会编号*",
            "工作单位/服务平台", "会员标签"]


def upload(client, data, name, url="/members/import", **form):
    if url == "/members/import":
        form.setdefault("category", OUTSIDE)
    response = post_file(client, url, data, name, **form)
    job = job_of(response)
    location = response.headers["Location"]
    assert re.fullmatch(r"/members/import/\d+", location), location
    return job


def roster(org):
    return Membership.select().where((Membership.org == org.id) & Membership.status.in_([PENDING, NORMAL]))


def assert_counters_exact(org):
    normal = roster(org).where(Membership.status == NORMAL)
    assert stats.member_total(org.id) == normal.count()
    joined = normal.where(Membership.join_date == today()).count()
    assert stats.daily(org.id, today(), today()).get(today(), (0, 0))[0] == joined


def xlsx(rows, numeric_ids=()):
    """An .xlsx written with openpyxl; rows at the indexes in `numeric_ids` get their ID number
    as a number cell (what Excel does to a long number typed into a General cell)."""
    wb = Workbook()
    sheet = wb.active
    keys = list(rows[0])
    sheet.append([memberfiles.HEADER.get(k, k) for k in keys])
    for i, row in enumerate(rows):
        values = [row[k] for k in keys]
        if i in numeric_ids:
            values[keys.index("证件号码")] = int(row["证件号码"])
        sheet.append(values)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def error_table(page):
    table = page.select_one("#import-errors")
    assert table is not None, page.get_text()[:2000]
    assert [th.get_text() for th in table.select("th")] == ["错误行号", "姓名", "证件号码", "错误列", "错误值",
                                                            "错误信息"]
    return [[td.get_text() for td in tr.select("td")] for tr in table.select("tbody tr")]


def reasons_by_row(page) -> dict:
    out = {}
    for row, _name, _id, column, _value, reason in error_table(page):
        out.setdefault(int(row), []).append(f"{column}：{reason}")
    return out


# --- 下载模板 -------------------------------------------------------------------------------------
def test_template_has_the_manual_columns_explanation_dropdowns_and_text_columns(city, as_role):
    org = city.orgs["grassroots1"]
    response = as_role("grassroots").get("/members/import/template")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]] == TEMPLATE
    assert sheet.max_row >= 1 and all(c.value is None for c in sheet[2])  # no sample data
    assert sheet.column_dimensions["C"].number_format == "@"  # 证件号码 as text
    assert sheet.column_dimensions["D"].number_format == "@"  # 手机号码 as text
    assert sheet["C2"].number_format == "@"
    lists = {str(v.sqref).split(":")[0][0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert set(lists) == {"B", "E", "I"}
    assert all(t in lists["B"] for t in members.ID_TYPES)
    assert lists["E"] == '"男,女"'
    assert all(t in lists["I"] for t in members.MEMBER_TAGS)
    notes = {r[0]: r[1] for r in wb["数据说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert all(t in notes["证件类型(身份证)*"] for t in members.ID_TYPES)
    assert "、".join(members.MEMBER_TAGS) in notes["会员标签"] and "用“、”分隔" in notes["会员标签"]
    assert "超过6个汉字且少于20个汉字（如果要办理工会会员卡，请必填）" in notes["工作单位/服务平台"]
    assert "手机号码不要重复" in notes["手机号码*"]
    assert org.name in notes["所在工会*"] and org.union_no in notes["工会编号*"]


def test_by_code_template_adds_the_code_column_and_lists_the_unions_enterprises(city, as_role):
    org = city.orgs["grassroots1"]
    mine = factories.make_enterprise(org)
    other = factories.make_enterprise(city.orgs["direct1"])
    wb = load_workbook(io.BytesIO(as_role("grassroots").get("/members/import/by-code/template").data))
    assert [c.value for c in wb.worksheets[0][1]] == TEMPLATE + ["组织机构代码*"]
    covered = [r for r in wb["本工会覆盖企业"].iter_rows(min_row=2, values_only=True)]
    assert covered == [(mine.name, mine.uscc)]
    assert other.uscc not in str(covered)


# --- thousands of rows in every format ------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv-gbk", "csv-bom", "csv-utf8"])
def test_thousands_of_rows_in_every_format_then_the_same_file_again(as_role, city, fmt):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    n = 2000
    rows = memberfiles.member_rows(n, org=org)
    data, name = memberfiles.member_file(rows, fmt)
    people = Person.select().count()
    job = upload(client, data, name)
    assert job.status == "已完成", job.errors
    result = job.result_data
    assert {k: result[k] for k in ("rows", "added", "updated", "unchanged", "failed")} == {
        "rows": n, "added": n, "updated": 0, "unchanged": 0, "failed": 0}
    added = list(roster(org).where(Membership.category == OUTSIDE))
    assert len(added) == n and Person.select().count() == people + n
    numbers = [m.member_no for m in added]
    assert all(numbers) and len(set(numbers)) == n  # member numbers issued, unique
    assert {m.status for m in added} == {NORMAL} and {m.join_date for m in added} == {today()}
    m = Membership.select().join(Person).where(Person.id_number == memberfiles.id_number(7)).get()
    assert (m.person.name, m.person.gender, m.mobile) == ("导入会员7", memberfiles.gender(7), memberfiles.mobile(7))
    assert m.work_unit == "上海测试科技有限公司第一分公司"
    assert_counters_exact(org)

    again = upload(client, data, name)
    assert again.result_data["added"] == 0 and again.result_data["unchanged"] == n
    assert roster(org).count() == n
    assert_counters_exact(org)


# --- per-row reasons ------------------------------------------------------------------------------
def test_bad_rows_get_their_reasons_and_change_nothing(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    elsewhere = factories.make_member(city.orgs["direct1"])
    neighbour = factories.make_member(org, mobile="13800000001")
    stranger = Person.create(id_number=memberfiles.id_number(9001), name="系统中的姓名", gender="男")
    arriving = factories.make_member(city.orgs["grassroots2"], status=TRANSFER_IN, member_no=None)
    before = {m.id: (m.status, m.mobile, m.org_id) for m in Membership.select()}
    rows = memberfiles.member_rows(20, org=org)
    good_id = rows[0]["证件号码"]
    rows[0]["证件号码"] = good_id[:17] + ("1" if good_id[17] != "1" else "2")  # row 2: check digit
    old = "310115680101123"  # a 15-digit old number
    rows[1].update(证件号码=old, 性别="男")  # row 3: converted, accepted
    rows[3].update(证件号码=rows[2]["证件号码"], 性别=rows[2]["性别"])  # row 5: duplicate of row 4
    rows[5]["手机号码"] = rows[4]["手机号码"]  # row 7: duplicate mobile of row 6
    rows[6].update(姓名=elsewhere.person.name, 证件号码=elsewhere.person.id_number,
                   性别=elsewhere.person.gender)  # row 8: in another union
    rows[7]["所在工会"] = "别的工会"  # row 9
    rows[8]["会员标签"] = "优秀会员"  # row 10
    rows[9]["工会编号"] = "X999"  # row 11
    rows[10]["手机号码"] = "13800000001"  # row 12: taken in this union
    rows[11]["证件号码"] = memberfiles.id_number(9001)  # row 13: name differs from the system's
    rows[11]["性别"] = memberfiles.gender(9001)
    rows[12].update(姓名=arriving.person.name, 证件号码=arriving.person.id_number,
                    性别=arriving.person.gender)  # row 14: pending transfer
    rows[13]["性别"] = "女" if rows[13]["性别"] == "男" else "男"  # row 15: gender mismatch
    rows[14]["证件号码"] = "3.10101E+17"  # row 16: what a CSV saved by Excel holds
    rows[15]["证件号码"] = next(n for n in map(memberfiles.id_number, range(500, 600)) if n.isdigit())
    data = xlsx(rows, numeric_ids={15})  # row 17: an ID number stored as a number cell
    job = upload(client, data, "会员.xlsx")
    result = job.result_data
    assert job.status == "已完成", job.errors
    page = soup(client.get(f"/members/import/{job.id}"))
    reasons = reasons_by_row(page)
    assert reasons[2] == [f"证件号码：{CHECK_MESSAGE}"]
    assert 3 not in reasons
    assert reasons[5] == ["证件号码：与第4行证件号码重复"]
    assert reasons[7] == ["手机号码：手机号码与第6行重复（手机号码不要重复）"]
    assert city.orgs["direct1"].name in reasons[8][0] and "从其他工会转入会员到本工会" in reasons[8][0]
    assert reasons[9] == [f"所在工会：所在工会须为本工会「{org.name}」"]
    assert reasons[10][0].startswith("会员标签：会员标签「优秀会员」不正确")
    assert reasons[11] == [f"工会编号：工会编号须为本工会的工会编号 {org.union_no}"]
    assert reasons[12] == [f"手机号码：手机号码已被本工会会员「{neighbour.person.name}」使用（手机号码不要重复）"]
    assert reasons[13] == ["姓名：姓名与系统中该证件号码登记的姓名「系统中的姓名」不一致（会员姓名和证件号码必须一致）"]
    assert "转入审核中" in reasons[14][0] and city.orgs["grassroots2"].name in reasons[14][0]
    assert reasons[15][0].startswith("性别：性别与身份证号码不符")
    assert reasons[16] == [f"证件号码：{importer.NUMERIC_ID_MESSAGE}"]
    assert reasons[17] == [f"证件号码：{importer.NUMERIC_ID_MESSAGE}"]
    assert sorted(reasons) == [2, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert result["failed"] == 13 and result["added"] == 7
    # ID numbers masked on screen
    text = page.get_text()
    assert elsewhere.person.id_number not in text and good_id[:17] not in text
    converted = old[:6] + "19" + old[6:]
    converted += check_digit(converted)
    assert roster(org).join(Person).where(Person.id_number == converted).exists()
    # nothing that existed was changed
    assert {m.id: (m.status, m.mobile, m.org_id) for m in Membership.select()
            if m.id in before} == before
    assert Person.get_by_id(stranger.id).name == "系统中的姓名"
    assert page.find("h2", string="导入信息有以下错误,请重新修改后导入") is not None
    [log] = AuditLog.for_object(Job.get_by_id(job.id)).where(AuditLog.action == "批量导入会员")
    assert {k: log.detail_data[k] for k in ("行数", "新增", "更新", "未变化", "未导入")} == {
        "行数": 20, "新增": 7, "更新": 0, "未变化": 0, "未导入": 13}
    assert not re.search(r"\d{15}", log.detail)  # no personal numbers in the log
    assert page.find("a", string="下载错误数据")["href"] == f"/members/import/{job.id}/errors"


def test_formula_text_in_a_csv_is_rejected_by_the_id_rule(as_role, city):
    org = city.orgs["grassroots1"]
    rows = memberfiles.member_rows(3, org=org)
    rows[1]["证件号码"] = "=1+1"
    data, name = memberfiles.member_file(rows, "csv-utf8")
    job = upload(as_role("grassroots"), data, name)
    assert job.result_data["added"] == 2
    assert job.result_data["error_rows"][0][0] == 3 and job.result_data["error_rows"][0][3] == "证件号码"


def test_existing_members_are_updated_only_in_the_fields_the_file_brings(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    rows = memberfiles.member_rows(4, org=org)
    job = upload(client, *memberfiles.member_file(rows, "xlsx"))
    assert job.result_data["added"] == 4
    bystander = factories.make_member(org, mobile="13800000009", work_unit="原单位")
    rows[0]["手机号码"] = "13912340000"
    rows[1]["会员标签"] = "劳动模范、困难职工"
    rows[2]["工作单位/服务平台"] = ""  # empty cell: keeps what the member has
    again = upload(client, *memberfiles.member_file(rows, "xlsx"))
    result = again.result_data
    assert (result["added"], result["updated"], result["unchanged"], result["failed"]) == (0, 2, 2, 0)
    first = Membership.select().join(Person).where(Person.id_number == rows[0]["证件号码"]).get()
    assert first.mobile == "13912340000" and first.person.name == rows[0]["姓名"]
    third = Membership.select().join(Person).where(Person.id_number == rows[2]["证件号码"]).get()
    assert third.work_unit == "上海测试科技有限公司第一分公司"
    assert Membership.get_by_id(bystander.id).work_unit == "原单位"  # not in the file: untouched
    [log] = AuditLog.for_object(first)
    assert (log.action, log.detail_data) == ("批量导入会员", {"手机号码": [memberfiles.mobile(0), "13912340000"]})
    assert log.account_id == city.account("grassroots").id
    page = soup(client.get(f"/members/import/{again.id}"))
    changes = [[td.get_text() for td in tr.select("td")] for tr in page.select("#import-changes tbody tr")]
    assert [2, "导入会员0", f"手机号码：{memberfiles.mobile(0)} → 13912340000"] == [int(changes[0][0]), *changes[0][1:]]
    assert changes[1][2] == "会员标签：（空） → 劳动模范、困难职工"
    assert page.select_one("#count-updated").get_text() == "2"


def test_a_person_in_the_system_without_a_union_joins_without_a_new_person(as_role, city):
    org = city.orgs["grassroots1"]
    left = factories.make_member(city.orgs["direct1"])
    members.delete(left, city.account("grassroots", 2), "退休")
    rows = memberfiles.member_rows(1, org=org, 姓名=left.person.name, 证件号码=left.person.id_number,
                                   性别=left.person.gender)
    people = Person.select().count()
    job = upload(as_role("grassroots"), *memberfiles.member_file(rows, "xlsx"))
    assert job.result_data["added"] == 1 and Person.select().count() == people
    assert roster(org).where(Membership.person == left.person_id).exists()


# --- file-level problems ------------------------------------------------------------------------
def test_wrong_template_fails_with_the_missing_columns_named(as_role, city):
    client = as_role("grassroots")
    data, name = memberfiles.member_file([{"姓名": "张三", "证件号码": memberfiles.id_number(1)}], "xlsx")
    job = upload(client, data, name)
    assert job.status == "失败"
    page = soup(client.get(f"/members/import/{job.id}"))
    alert = page.select_one(".alert-error").get_text()
    assert alert.startswith("文件缺少必需的列：证件类型、手机号码、性别、所在工会、工会编号")


@pytest.mark.parametrize("data,name,message", [
    (b"", "x.xlsx", "上传的文件是空的"),
    (b"just some text, not a workbook", "x.xlsx", "内容不是 Excel 工作簿"),
    (b"a,b", "x.pdf", "只能上传 Excel（.xlsx、.xls）或 CSV 文件"),
])
def test_files_refused_at_upload(as_role, city, data, name, message):
    client = as_role("grassroots")
    jobs = Job.select().count()
    response = post_file(client, "/members/import", data, name, category=OUTSIDE)
    assert response.status_code == 422
    assert message in soup(response).select_one(".field-error").get_text()
    assert Job.select().count() == jobs


@pytest.mark.parametrize("data,name,message", [
    (b"\x00\x01\x02binary\x00garbage" * 20, "x.xls", "无法读取该文件"),
    ("姓名*,证件类型(身份证)*,证件号码*,手机号码*,性别*,所在工会*,工会编号*\n".encode(), "x.csv", "文件中没有会员数据"),
    (b"PK\x03\x04broken zip", "x.xlsx", "文件已损坏"),
])
def test_unreadable_or_empty_files_fail_with_a_chinese_reason(as_role, city, data, name, message):
    client = as_role("grassroots")
    job = upload(client, data, name)
    assert job.status == "失败"
    assert message in soup(client.get(f"/members/import/{job.id}")).select_one(".alert-error").get_text()
    assert roster(city.orgs["grassroots1"]).count() == 0


def test_a_failing_apply_leaves_nothing_and_a_retry_imports_everything(as_role, city, monkeypatch):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    people = Person.select().count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(importer, "count_new_members", boom)  # after the bulk inserts
    job = upload(client, *memberfiles.member_file(memberfiles.member_rows(2500, org=org), "xlsx"))
    assert job.status == "失败"
    assert roster(org).count() == 0 and Person.select().count() == people
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert stats.member_total(org.id) == 0
    monkeypatch.undo()
    assert client.post(f"/jobs/{job.id}/retry").status_code == 302
    job = Job.get_by_id(job.id)
    assert job.status == "已完成" and job.result_data["added"] == 2500
    assert_counters_exact(org)


# --- the error Excel, fixed and uploaded again ----------------------------------------------------
def test_error_excel_fixed_and_uploaded_again(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    rows = memberfiles.member_rows(300, org=org)
    bad_tag, bad_union, bad_id = 10, 20, 30
    rows[bad_tag]["会员标签"] = "优秀会员"
    rows[bad_union]["所在工会"] = "别的工会"
    rows[bad_id]["证件号码"] = rows[bad_id]["证件号码"][:-1] + ("0" if rows[bad_id]["证件号码"][-1] != "0" else "1")
    job = upload(client, *memberfiles.member_file(rows, "csv-gbk"))
    assert (job.result_data["added"], job.result_data["failed"]) == (297, 3)
    page = soup(client.get(f"/members/import/{job.id}"))
    download = client.get(page.find("a", string="下载错误数据")["href"])
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(download.data))
    sheet = wb.active
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == TEMPLATE + ["错误行号", "错误原因"]
    assert [r[0] for r in got[1:]] == [rows[i]["姓名"] for i in (bad_tag, bad_union, bad_id)]
    assert [r[-2] for r in got[1:]] == [i + 2 for i in (bad_tag, bad_union, bad_id)]  # the rows of the upload
    assert "会员标签「优秀会员」不正确" in got[1][-1] and "所在工会须为本工会" in got[2][-1]
    assert CHECK_MESSAGE in got[3][-1]
    assert sheet.cell(2, 3).number_format == "@"  # the operator types the ID as text
    # the operator fixes the cells and uploads the same file again
    sheet.cell(2, 9).value = "劳动模范"
    sheet.cell(3, 6).value = org.name
    sheet.cell(4, 3).value = memberfiles.id_number(30)
    fixed = io.BytesIO()
    wb.save(fixed)
    again = upload(client, fixed.getvalue(), "导入会员错误数据.xlsx")
    assert (again.result_data["added"], again.result_data["failed"]) == (3, 0), again.result_data
    assert roster(org).count() == 300
    tagged = roster(org).join(Person).where(Person.id_number == rows[bad_tag]["证件号码"]).get()
    assert tagged.tags == "劳动模范"


# --- a job killed halfway resumes -----------------------------------------------------------------
class Killed(Exception):
    pass


class DiesAfterFirstChunk(JobContext):
    def save_progress(self, done, total=None, checkpoint=None):
        if checkpoint and checkpoint.get("chunks", 0) >= 2:
            raise Killed("worker killed")
        super().save_progress(done, total, checkpoint)


def test_a_job_killed_after_its_first_chunk_resumes_and_applies_every_row_once(city):
    org = city.orgs["grassroots1"]
    account = city.account("grassroots")
    n = 5000  # five chunks of importer.CHUNK
    rows = memberfiles.member_rows(n, org=org)
    rows[2500]["证件号码"] = rows[10]["证件号码"]  # a duplicate in the second chunk of a row in the first
    data, name = memberfiles.member_file(rows, "xlsx")
    stored_file("uploads", "killed.bin").write_bytes(data)
    job = Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status="运行中",
                     params=json.dumps({"upload": "killed.bin", "account": account.id, "org": org.id,
                                        "file_name": name, "category": OUTSIDE}))
    with pytest.raises(Killed):
        importer.run_import(DiesAfterFirstChunk(job))
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 1
    assert json.loads(Job.get_by_id(job.id).checkpoint)["chunks"] == 1
    assert roster(org).count() == 0  # nothing applied before every chunk is checked

    result = importer.run_import(JobContext(Job.get_by_id(job.id)))  # the restarted worker
    assert (result["added"], result["failed"]) == (n - 1, 1)
    assert result["error_rows"][0][0] == 2502 and result["error_rows"][0][5] == "与第12行证件号码重复"
    assert roster(org).count() == n - 1
    assert roster(org).select(Membership.person).distinct().count() == n - 1
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    # killed after applying, before the job was marked done: the result is not applied twice
    assert importer.run_import(JobContext(Job.get_by_id(job.id))) == result
    assert roster(org).count() == n - 1
    assert_counters_exact(org)


def test_a_worker_dying_after_chunk_k_is_resumed_at_chunk_k_not_restarted(city, as_role, monkeypatch):
    """The run dies right after committing its third chunk (as under SIGKILL: no clean-up runs);
    the next worker's sweep re-queues the job and the second run checks and stages only the
    chunks after the third — the file's first 3,000 rows are not checked again — its progress
    never goes back, and every row is imported once. The result page says where it went on."""
    org, account = city.orgs["grassroots1"], city.account("grassroots")
    n, k, chunks = 5500, 3, 6  # importer.CHUNK rows a chunk
    data, name = memberfiles.member_file(memberfiles.member_rows(n, org=org), "xlsx")
    stored_file("uploads", "died.bin").write_bytes(data)
    job = Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status=QUEUED,
                     params=json.dumps({"upload": "died.bin", "account": account.id, "org": org.id,
                                        "file_name": name, "category": OUTSIDE}))
    runs = ImportRuns(monkeypatch, importer.Checker, dies_after=k)
    rows = list(range(2, n + 2))  # the file's data rows (row 1 is the header)
    with pytest.raises(ProcessDied):
        run_job(job.id)
    died = Job.get_by_id(job.id)
    assert (died.status, died.attempts) == (RUNNING, 1)  # nobody told the database
    assert json.loads(died.checkpoint)["chunks"] == k and died.progress_done == k * importer.CHUNK
    assert JobChunk.select().where(JobChunk.job == job.id).count() == k
    assert (runs.checked, runs.staged) == (rows[:k * importer.CHUNK], list(range(k)))
    assert roster(org).count() == 0

    runs.next_run()
    assert sweep_interrupted() == [job.id]  # the next worker starts: the job's process is gone
    job = Job.get_by_id(job.id)
    assert (job.status, job.attempts) == (DONE, 2)
    assert runs.checked == rows[k * importer.CHUNK:]  # the staged rows are not checked again
    assert runs.staged == list(range(k, chunks))  # nor staged again
    assert runs.progress == sorted(runs.progress) and min(runs.progress) >= died.progress_done
    assert job.result_data["runs"] == [
        {"attempt": 1, "chunks": [0, k], "rows": [2, k * importer.CHUNK + 1]},
        {"attempt": 2, "chunks": [k, chunks], "rows": [k * importer.CHUNK + 2, n + 1]}]
    assert (job.result_data["added"], job.result_data["failed"]) == (n, 0)
    assert roster(org).count() == n
    assert roster(org).select(Membership.person).distinct().count() == n
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert AuditLog.select().where((AuditLog.object_type == "Job") & (AuditLog.object_id == job.id)
                                   & (AuditLog.action == "任务中断后重新排队")).count() == 1
    assert_counters_exact(org)
    page = soup(as_role("grassroots").get(f"/members/import/{job.id}")).select_one(".job-runs").get_text()
    assert page == ("任务曾中断，已从断点继续：第1次运行校验了第2–3001行后中断；第2次运行从第3002行继续，"
                    "校验至第5501行（已校验的行不再重复校验，每行只导入一次）")


# --- 上传会员数据类型 ------------------------------------------------------------------------------
def test_upload_types_need_their_choice_and_only_the_unions_enterprises(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    mine = factories.make_enterprise(org)
    foreign = factories.make_enterprise(city.orgs["direct1"])
    data, name = memberfiles.member_file(memberfiles.member_rows(3, org=org), "xlsx")

    def post(**form):
        return post_file(client, "/members/import", data, name, **form)
    no_enterprise = "请选择本工会覆盖的企业（只能单选）"
    for form, message in [({}, "请选择上传会员数据类型"),
                          ({"category": FLEXIBLE}, "请选择灵活就业类别"),
                          ({"category": FLEXIBLE, "kind": "程序员"}, "请选择灵活就业类别"),
                          ({"category": ENTERPRISE}, no_enterprise),
                          ({"category": ENTERPRISE, "enterprise": str(foreign.id)}, no_enterprise),
                          ({"category": ENTERPRISE, "enterprise": "abc"}, no_enterprise)]:
        response = post(**form)
        assert response.status_code == 422, form
        assert message in [p.get_text() for p in soup(response).select(".field-error")], form
    assert not Job.select().where(Job.kind == importer.KIND).exists()
    page = soup(client.get("/members/import"))
    assert [o.get_text() for o in page.select("#import-enterprise option")][1:] == [f"{mine.name}（{mine.uscc}）"]

    job = upload(client, data, name, category=FLEXIBLE, kind="快递物流")
    assert job.result_data["added"] == 3
    assert {(m.category, m.category_detail, m.enterprise_id) for m in roster(org)} == {(FLEXIBLE, "快递物流", None)}
    rows = memberfiles.member_rows(2, start=10, org=org)
    job = upload(client, *memberfiles.member_file(rows, "xlsx"), category=ENTERPRISE, enterprise=str(mine.id))
    linked = roster(org).where(Membership.enterprise == mine.id)
    assert linked.count() == 2 and {m.category for m in linked} == {ENTERPRISE}
    assert "关联企业类（" + mine.name in soup(client.get(f"/members/import/{job.id}")).get_text()


def test_import_by_enterprise_code(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    first, second = factories.make_enterprise(org), factories.make_enterprise(org)
    foreign = factories.make_enterprise(city.orgs["direct1"])
    rows = memberfiles.member_rows(4, org=org, 组织机构代码=lambda i: (first, second)[i % 2].uscc.lower())
    rows[3]["组织机构代码"] = foreign.uscc
    job = upload(client, *memberfiles.member_file(rows, "xlsx"), url="/members/import/by-code")
    result = job.result_data
    assert (result["added"], result["failed"]) == (3, 1)
    assert result["error_rows"][0][3:] == ["组织机构代码", foreign.uscc,
                                           f"组织机构代码「{foreign.uscc}」不是本工会覆盖的企业"]
    linked = {m.person.name: (m.category, m.enterprise_id) for m in roster(org)}
    assert linked == {"导入会员0": (ENTERPRISE, first.id), "导入会员1": (ENTERPRISE, second.id),
                      "导入会员2": (ENTERPRISE, first.id)}
    # the same people, now under the other enterprise: the link is what changes
    rows = memberfiles.member_rows(1, org=org, 组织机构代码=second.uscc)
    again = upload(client, *memberfiles.member_file(rows, "xlsx"), url="/members/import/by-code")
    assert again.result_data["updated"] == 1
    assert roster(org).join(Person).where(Person.name == "导入会员0").get().enterprise_id == second.id
    assert again.result_data["changes"][0][2] == f"关联企业：{first.name} → {second.name}"
    # the ordinary template lacks the code column
    plain = upload(client, *memberfiles.member_file(memberfiles.member_rows(1, org=org), "xlsx"),
                   url="/members/import/by-code")
    assert plain.status == "失败" and "文件缺少必需的列：组织机构代码" in plain.error_list[0]


# --- 会员审核 --------------------------------------------------------------------------------------
def test_with_member_review_on_new_rows_wait_without_member_numbers(as_role, city):
    org = city.orgs["grassroots1"]
    Organization.update(member_review=True).where(Organization.id == city.orgs["district1"].id).execute()
    job = upload(as_role("grassroots"), *memberfiles.member_file(memberfiles.member_rows(50, org=org), "xlsx"))
    assert job.result_data["added"] == 50 and job.result_data["pending"] is True
    assert "待上级工会审核" in job.result_data["summary"]
    assert {(m.status, m.member_no, m.approved_at) for m in roster(org)} == {(PENDING, None, None)}
    assert stats.member_total(org.id) == 0
    assert_counters_exact(org)
    m = roster(org).first()
    member_review.approve(m, city.account("district"))
    assert stats.member_total(org.id) == 1 and Membership.get_by_id(m.id).member_no


# --- scope, refusals, progress -------------------------------------------------------------------
@pytest.mark.parametrize("role", ["district", "secondary"])
def test_unions_without_members_of_their_own_are_refused_with_a_reason(as_role, city, role):
    client = as_role(role)
    for response in (client.get("/members/import"), client.get("/members/import/by-code"),
                     client.get("/members/import/template"),
                     post_file(client, "/members/import", b"x", "a.csv", category=OUTSIDE)):
        assert response.status_code == 403
        assert "只有基层工会（或临时工会）可以导入会员" in soup(response).select_one(".refusal").get_text()
    assert not Job.select().where(Job.kind == importer.KIND).exists()


def test_temporary_union_may_import(app, city):
    temp = city.orgs["temporary1"]
    account = factories.make_account(temp)
    client = app.test_client()
    factories.login(client, account)
    job = upload(client, *memberfiles.member_file(memberfiles.member_rows(2, org=temp), "csv-utf8"))
    assert job.result_data["added"] == 2


def test_results_are_scoped(as_role, city):
    org = city.orgs["grassroots1"]
    job = upload(as_role("grassroots"), *memberfiles.member_file(memberfiles.member_rows(3, org=org), "xlsx"))
    sibling = as_role("grassroots", 2)  # direct1, same district
    for url in (f"/members/import/{job.id}", f"/members/import/{job.id}/progress", f"/members/import/{job.id}/errors"):
        assert sibling.get(url).status_code == 404, url
    assert as_role("grassroots", 1).get(f"/members/import/{job.id}").status_code == 404
    assert as_role("district").get(f"/members/import/{job.id}").status_code == 200  # its superior
    assert as_role("district", 1).get(f"/members/import/{job.id}").status_code == 404
    history = soup(sibling.get("/members/import/history"))
    assert history.find("a", href=f"/members/import/{job.id}") is None


def test_progress_polls_until_done_and_works_without_javascript(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    init_queue(DB_URL, "memory")  # the job waits in the queue, like behind a busy worker
    try:
        job = upload(client, *memberfiles.member_file(memberfiles.member_rows(5, org=org), "xlsx"))
    finally:
        init_queue(DB_URL, "immediate")
    assert job.status == QUEUED
    page = soup(client.get(f"/members/import/{job.id}"))
    assert page.select_one('noscript meta[http-equiv="refresh"]') is not None
    poll = page.select_one("#import-progress")
    assert poll["hx-get"] == f"/members/import/{job.id}/progress" and poll["hx-trigger"] == "every 1s"
    waiting = client.get(f"/members/import/{job.id}/progress", headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "<html" not in waiting.get_data(as_text=True)

    run_job(job.id)
    done = client.get(f"/members/import/{job.id}/progress", headers={"HX-Request": "true"})
    assert done.status_code == 286
    fragment = soup(done)
    assert fragment.select_one("#import-progress").get("hx-trigger") is None
    assert fragment.select_one("#count-added").get_text() == "5"
    plain = client.get(f"/members/import/{job.id}/progress")
    assert plain.status_code == 200 and "<html" in plain.get_data(as_text=True)
    full = client.get(f"/members/import/{job.id}")
    assert "<html" in full.get_data(as_text=True)
    assert soup(full).select_one('noscript meta[http-equiv="refresh"]') is None
    assert soup(full).select_one("h1").get_text() == "查看导入会员结果"
    fragment = client.get(f"/members/import/{job.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert soup(fragment).select_one("#count-added").get_text() == "5"


def test_other_job_kinds_are_sent_to_the_job_page(as_role, city):
    job = factories.make_job(city.orgs["grassroots1"])
    client = as_role("grassroots")
    assert client.get(f"/members/import/{job.id}").headers["Location"] == f"/jobs/{job.id}"
    assert client.get(f"/members/import/{job.id}/errors").headers["Location"] == f"/jobs/{job.id}/errors"


def test_upload_page_has_the_manual_words(as_role, city):
    page = soup(as_role("grassroots").get("/members/import"))
    assert page.find("a", string="下载模板")["href"] == "/members/import/template"
    assert page.find("button", string="导入会员") is not None
    assert page.find("a", string="历史导入记录")["href"] == "/members/import/history"
    text = page.get_text()
    assert "已在其它工会注册的会员,请使用会员转入功能" in text and "新增会员，会员审核通过后自动生成会员编号" in text
    assert [o.get_text() for o in page.select("#import-category option")][1:] == people.CATEGORIES
    assert [o.get_text() for o in page.select("#import-kind option")][1:] == people.FLEXIBLE_KINDS


def test_history_lists_every_import_and_compare_of_the_union(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    first = upload(client, *memberfiles.member_file(memberfiles.member_rows(3, org=org), "xlsx"))
    rows = memberfiles.member_rows(2, start=3, org=org)
    rows[1]["会员标签"] = "优秀会员"
    data, _ = memberfiles.member_file(rows, "csv-utf8")
    second = upload(client, data, "第二批.csv")
    compare = Job.create(kind="member_compare", title="会员比对", org=org.id, status="已完成",
                         params=json.dumps({"file_name": "全部会员名单.xlsx"}),
                         result=json.dumps({"summary": "比对完成"}))
    upload(as_role("grassroots", 2), *memberfiles.member_file(
        memberfiles.member_rows(1, start=50, org=city.orgs["direct1"]), "xlsx"))  # another union's
    page = soup(client.get("/members/import/history"))
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.select("#rows tbody tr")]
    assert len(rows) == 3
    assert rows[0][1:5] == ["会员比对", "全部会员名单.xlsx", "比对完成", "已完成"]
    assert rows[1][1].startswith("批量导入会员") and "企业外入会" in rows[1][1]
    assert rows[1][2:5] == ["第二批.csv", "新增1人，更新0人，未变化0人，未导入1行", "已完成"]
    assert page.find("a", href=f"/members/import/{second.id}").get_text() == "查看导入会员结果"
    assert page.find("a", href=f"/members/import/{first.id}") is not None
    assert page.find("a", href=f"/members/sync/{compare.id}").get_text() == "查看结果"
    assert page.find("a", href=f"/members/sync/{compare.id}/export").get_text() == "导出结果"
    assert "显示第 1 到第 3 条记录，总共 3 条记录" in page.get_text()
    fragment = client.get("/members/import/history", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and soup(fragment).select("#rows tbody tr")


# --- the row checker fed random bad cells -------------------------------------------------------
JUNK = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-10**20, max_value=10**20).map(lambda v: NumericText(str(v))),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: NumericText(repr(v))),
    st.sampled_from(["", " ", "=1+1", "3.10101E+17", "身份证", "其他", "男", "女", "x" * 300, "１３８００００００００",
                     "310115196601010011", "31011566010100", "农民工、未知", "\x00", "1" * 18]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(cells=st.dictionaries(st.sampled_from(importer.COLUMNS + [importer.BIRTH_COLUMN]), JUNK, min_size=1, max_size=5))
def test_random_bad_cells_never_crash_and_never_change_existing_members(city, cells):
    org = city.orgs["grassroots1"]
    existing = Membership.select().where(Membership.org == org.id).first() or factories.make_member(
        org, mobile="13800000077", work_unit="原来的单位", tags="农民工")
    person = existing.person
    snapshot = lambda: (Membership.select().where(Membership.org == org.id).count(),  # noqa: E731
                        [(m.id, m.mobile, m.work_unit, m.tags, m.status, m.member_no) for m in
                         Membership.select().order_by(Membership.id)],
                        [(p.id, p.name, p.id_number, p.gender) for p in Person.select().order_by(Person.id)])
    before = snapshot()
    row = {"姓名": person.name, "证件类型": "身份证", "证件号码": person.id_number, "手机号码": "13800000077",
           "性别": person.gender, "所在工会": org.name, "工会编号": org.union_no, **cells}
    checked = importer.validate_rows(org, [(2, row)])
    assert len(checked) == 1
    assert snapshot() == before  # checking reads only
    [result] = checked
    if result.get("errors"):
        assert all(isinstance(reason, str) and reason for _c, _v, reason in result["errors"])
        json.dumps(checked, ensure_ascii=False)  # what the staging table stores
        importer.apply(checked, org, {"category": OUTSIDE})
        assert snapshot() == before  # a rejected row changes nothing
    else:
        assert result["op"] in ("add", "update", "same")


def test_counters_helper_matches_a_direct_count_after_a_mixed_import(as_role, city):
    org = city.orgs["grassroots1"]
    factories.make_member(org)
    factories.make_member(org, status=PENDING, member_no=None)
    job = upload(as_role("grassroots"), *memberfiles.member_file(memberfiles.member_rows(40, org=org), "xls"))
    assert job.result_data["added"] == 40
    assert stats.member_total(org.id) == roster(org).where(Membership.status == NORMAL).count() == 41
    assert stats.member_total(city.orgs["district1"].id) == Membership.select().join(Organization).where(
        (Organization.district == city.orgs["district1"].id) & (Membership.status == NORMAL)).count()


class AnotherOperatorActsBeforeTheApply(JobContext):
    """Between the last checked chunk and the apply, another operator adds a member with the
    mobile number of one of the file's rows (the database constraint notices)."""
    def __init__(self, job, org, mobile):
        super().__init__(job)
        self.org, self.mobile = org, mobile

    def save_progress(self, done, total=None, checkpoint=None):
        super().save_progress(done, total, checkpoint)
        if (checkpoint or {}).get("chunks") == 1 and not checkpoint.get("applied") and self.mobile:
            factories.make_member(self.org, mobile=self.mobile)
            self.mobile = None


def test_a_conflict_found_at_apply_time_applies_nothing_and_the_rerun_reports_it(city):
    org = city.orgs["grassroots1"]
    account = city.account("grassroots")
    rows = memberfiles.member_rows(30, org=org)
    data, name = memberfiles.member_file(rows, "csv-utf8")
    stored_file("uploads", "race.bin").write_bytes(data)
    job = Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status="运行中",
                     params=json.dumps({"upload": "race.bin", "account": account.id, "org": org.id,
                                        "file_name": name, "category": OUTSIDE}))
    with pytest.raises(DomainError) as refused:
        importer.run_import(AnotherOperatorActsBeforeTheApply(job, org, rows[5]["手机号码"]))
    assert "本次未导入任何数据" in refused.value.message
    assert roster(org).count() == 1  # only the other operator's member
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert json.loads(Job.get_by_id(job.id).checkpoint) == {}
    result = importer.run_import(JobContext(Job.get_by_id(job.id)))  # 重试: checked again
    assert (result["added"], result["failed"]) == (29, 1)
    assert result["error_rows"][0][0] == 7 and "已被本工会会员" in result["error_rows"][0][5]


def test_upload_over_the_size_limit_is_refused_with_the_limit(app, as_role, city, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    data = b"x" * (1024 * 1024 + 10)
    response = post_file(as_role("grassroots"), "/members/import", data, "big.csv", category=OUTSIDE)
    assert response.status_code == 413
    assert "不能超过1MB" in soup(response).select_one(".refusal").get_text()
    assert not Job.select().where(Job.kind == importer.KIND).exists()


def test_awkward_text_is_stored_exactly(as_role, city):
    """Quotes, commas, backslashes and the text \\N survive the bulk insert (COPY on PostgreSQL)."""
    org = city.orgs["grassroots1"]
    awkward = '上海"引号",逗号\\N公司\\'
    rows = memberfiles.member_rows(2, org=org, **{"工作单位/服务平台": awkward})
    rows[1]["姓名"] = "阿依古丽·买买提"
    job = upload(as_role("grassroots"), *memberfiles.member_file(rows, "xlsx"))
    assert job.result_data["added"] == 2
    assert {m.work_unit for m in roster(org)} == {awkward}
    assert Person.get(Person.id_number == rows[1]["证件号码"]).name == "阿依古丽·买买提"


# --- every count opens the people behind it -------------------------------------------------------
def pager_total(page) -> int:
    return int(re.search(r"总共 (\d+) 条记录", page.select_one(".pager-summary").get_text()).group(1))


def listed_ids(client, url) -> tuple[int, set]:
    """(the pager's N, ids of the members linked from every page of the list)."""
    page, number, ids = soup(client.get(url)), 1, set()
    total = pager_total(page)
    while True:
        ids |= {int(a["href"].split("/")[2]) for a in page.select("#people-list a") if a.get_text() == "详情"}
        if page.find("a", string="下一页") is None:
            return total, ids
        number += 1
        page = soup(client.get(f"{url}?page={number}"))


def test_added_and_unchanged_counts_open_the_people_behind_them(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    first = memberfiles.member_rows(20, org=org)
    assert upload(client, *memberfiles.member_file(first, "xlsx")).result_data["added"] == 20
    bystander = factories.make_member(org)  # in the union, not in the file
    rows = [dict(r) for r in first[:18]]  # 17 unchanged (two pages) …
    rows[17]["手机号码"] = "13912349999"  # … and one updated
    rows += memberfiles.member_rows(4, start=100, org=org)  # 4 new …
    rows[-1]["证件号码"] = rows[-1]["证件号码"][:17] + ("1" if rows[-1]["证件号码"][17] != "1" else "2")  # … one bad
    job = upload(client, *memberfiles.member_file(rows, "xlsx"))
    result = job.result_data
    assert (result["added"], result["updated"], result["unchanged"], result["failed"]) == (3, 1, 17, 1)
    new_numbers = [r["证件号码"] for r in rows[18:21]]
    same_numbers = [r["证件号码"] for r in rows[:17]]
    direct = {  # counted straight from the tables
        "added": {m.id for m in roster(org).join(Person).where(Person.id_number.in_(new_numbers))},
        "unchanged": {m.id for m in roster(org).join(Person).where(Person.id_number.in_(same_numbers))},
    }
    assert len(direct["added"]) == 3 and len(direct["unchanged"]) == 17

    page = soup(client.get(f"/members/import/{job.id}"))
    for which in ("added", "unchanged"):
        link = page.select_one(f"#count-{which} a")
        assert link["href"] == f"/members/import/{job.id}/{which}"
        total, ids = listed_ids(client, link["href"])
        assert total == int(link.get_text()) == len(direct[which]) == result[which], which
        assert ids == direct[which] and bystander.id not in ids, which
    assert page.select_one("#count-updated a")["href"] == "#import-changes"
    assert len(page.select("#import-changes tbody tr")) == 1
    assert page.select_one("#count-failed a")["href"] == "#import-errors"
    assert page.select_one("#import-errors") is not None
    listing = soup(client.get(f"/members/import/{job.id}/unchanged"))
    assert listing.select_one(".pager-summary").get_text() == "显示第 1 到第 15 条记录，总共 17 条记录"
    assert [th.get_text() for th in listing.select("#people-list th")] == [
        "会员编号", "姓名", "证件号码", "用户状态", "同步会员", "操作"]
    assert rows[0]["证件号码"] not in listing.get_text() and "导入会员0" in listing.get_text()  # masked
    fragment = client.get(f"/members/import/{job.id}/unchanged?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert len(soup(fragment).select("#people-list tbody tr")) == 2
    for stranger in (as_role("grassroots", 1), as_role("grassroots", 2), as_role("district", 1)):
        for which in ("added", "unchanged"):
            assert stranger.get(f"/members/import/{job.id}/{which}").status_code == 404
    assert as_role("district").get(f"/members/import/{job.id}/added").status_code == 200  # its superior


def test_people_pages_of_a_first_import_and_of_other_jobs(as_role, city):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    rows = memberfiles.member_rows(3, org=org)
    job = upload(client, *memberfiles.member_file(rows, "csv-utf8"))
    page = soup(client.get(f"/members/import/{job.id}"))
    assert page.select_one("#count-failed a") is None and page.select_one("#count-updated a") is None  # no table
    total, ids = listed_ids(client, f"/members/import/{job.id}/added")
    assert total == 3 and ids == {m.id for m in roster(org)}
    assert pager_total(soup(client.get(f"/members/import/{job.id}/unchanged"))) == 0
    other = factories.make_job(org)
    assert client.get(f"/members/import/{other.id}/added").headers["Location"] == f"/jobs/{other.id}"


# --- progress of an xlsx that does not say how many rows it has -------------------------------------
class RecordsProgress(JobContext):
    def __init__(self, job):
        super().__init__(job)
        self.seen = []

    def save_progress(self, done, total=None, checkpoint=None):
        self.seen.append((done, total))
        super().save_progress(done, total, checkpoint)


def test_expected_rows_trusts_a_declared_total_only_while_it_holds():
    assert importer.expected_rows(3000, 50_000) == 50_000  # the sheet's dimension
    assert importer.expected_rows(3000, None) == 0  # no dimension: not known
    assert importer.expected_rows(3000, 2999) == 0  # a wrong dimension: not known either


def test_progress_without_a_stored_dimension_shows_the_sheets_rows_not_100_percent(as_role, city):
    org = city.orgs["grassroots1"]
    account = city.account("grassroots")
    n = 3000
    data, name = memberfiles.member_file(memberfiles.member_rows(n, org=org), "xlsx")  # write-only: no <dimension>
    stored_file("uploads", "no-dimension.bin").write_bytes(data)
    job = Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status="运行中",
                     params=json.dumps({"upload": "no-dimension.bin", "account": account.id, "org": org.id,
                                        "file_name": name, "category": OUTSIDE}))
    ctx = RecordsProgress(job)
    importer.run_import(ctx)
    while_reading = [(done, total) for done, total in ctx.seen if done < n]
    # calamine parses the sheet whole: its rows are known from the first chunk, so the progress is
    # 1000 / 3000, never 100%（1000 / 1000 行）
    assert while_reading and all(total == n for _done, total in while_reading)
    assert (n, n) in ctx.seen  # read to the end: the total is known

    Job.update(progress_done=2000, progress_total=0).where(Job.id == job.id).execute()  # as it was mid-file
    fragment = soup(as_role("grassroots").get(f"/members/import/{job.id}/progress", headers={"HX-Request": "true"}))
    shown = fragment.select_one(".import-rows").get_text()
    assert "已读取 2000 行" in shown and "%" not in shown
