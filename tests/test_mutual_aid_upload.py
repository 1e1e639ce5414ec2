"""上传本地参保名单文件 (issue 18 item 4, seed 004): the template, thousands of rows in xlsx / xls /
csv as a background job, the rejected rows (bad fields, an ID twice in the file, a person already
in the batch, a person another unit holds — named with its handler's contact) in an error file that
is fixed and uploaded again, the wrong template refused as a whole file, the 建议清册 name taking
over, who may upload and when, a killed job resumed, control returned at once."""

import io
import json

import pytest
from openpyxl import load_workbook

from models.base import DomainError
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job, JobChunk, JobContext, init_queue, run_job, sweep_interrupted
from models.mutual_aid import batch_ops, code_ops, roster_import, roster_ops, years
from models.mutual_aid.batches import ATTACH_REVIEW, CHECK_FAILED, CHOOSE_ITEMS, TO_CHECK, AidBatch, RosterEntry
from models.mutual_aid.registry import RegistryPayer
from models.storage import stored_file
from tests import factories
from tests.conftest import DB_URL
from tests.factories import tablefiles
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, enterprise_account, form, person, png
from tests.helpers import ImportRuns, ProcessDied, post_file, soup, upload_job

HEADER = ["姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "是否有社保"]


def rows_of(n: int, start: int = 0) -> list:
    return [[f"参保人{i}", "居民身份证", id_number(i), "", "", "是" if i % 2 else "否"]
            for i in range(start, start + n)]


def url(batch) -> str:
    return f"/mutual-aid/batches/{batch.id}/upload"


def login(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def entries(batch):
    return RosterEntry.select().where(RosterEntry.batch == batch.id)


@pytest.fixture
def unit(app, city):
    """(code, batch in 清册待校验, a client of the code's account)."""
    code = approved_code(city, 1)
    return code, batch_in(code, TO_CHECK), login(app, code.account)


def test_the_template_has_the_manuals_columns_and_goes_in_as_it_is(unit):
    code, batch, client = unit
    response = client.get(url(batch) + "/template")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["C2"].number_format == "@"  # 证件号码 kept as text
    page = soup(client.get(url(batch)))
    assert page.select_one("#roster-template")["href"] == url(batch) + "/template"
    assert "出生日期和性别栏为必填项" in page.get_text()
    sheet.append(["张三", "居民身份证", id_number(1), "", "", "是"])
    sheet.append(["John Smith", "护照", "E1234567", "男", "1980-05-01", "否"])
    out = io.BytesIO()
    sheet.parent.save(out)
    job = upload_job(client, url(batch), out.getvalue(), "参保名单.xlsx")
    assert job.status == DONE and job.result_data["imported"] == 2, job.error_list
    resident, passport = entries(batch).order_by(RosterEntry.id)
    assert (resident.employment, resident.has_social_insurance, resident.source) == ("在职", True, "本地上传")
    assert (passport.id_type, passport.gender, str(passport.birth_date), passport.employment) == (
        "护照", "男", "1980-05-01", "-")


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv-gbk"])
def test_thousands_of_rows_go_in_and_the_fixed_error_file_goes_in_again(app, city, unit, fmt):
    code, batch, client = unit
    other = approved_code(city, 2)
    roster_ops.add_entries(batch_in(other, TO_CHECK, year=batch.year), [person(100)], other.account)
    roster_ops.add_entries(batch, [person(200)], code.account)
    n = 3000
    rows = rows_of(n)
    rows[5] = ["护照人", "护照", "E7654321", "", "", "否"]  # no 出生日期 / 性别
    rows[7][2] = id_number(3)  # the ID of row 5 (file row 5) again
    rows[9][5] = "有"  # 是否有社保 neither 是 nor 否
    data, name = tablefiles.write([HEADER] + rows, fmt)
    job = upload_job(client, url(batch), data, name)
    assert job.status == DONE, job.error_list
    result = job.result_data
    assert (result["rows"], result["imported"], result["failed"]) == (n, n - 5, 5)
    assert entries(batch).count() == n - 5 + 1
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert reasons[7] == "出生日期：证件类型为非身份证的，出生日期为必填项"
    assert reasons[9] == "证件号码：与第5行证件号码重复"
    assert reasons[11] == "是否有社保：只能填写“是”或“否”"
    assert "已被「上海互助测试2有限公司」占用（经办人：经办人2，联系电话：13800000002）" in reasons[102]
    assert "已在本批次清册中" in reasons[202]
    assert "*" in result["errors"][0]["id_number"]  # masked on the page
    page = soup(client.get(f"/mutual-aid/batches/uploads/{job.id}"))
    assert page.select_one("#count-imported").get_text() == str(n - 5)
    assert page.select_one("#error-file")["href"] == f"/jobs/{job.id}/errors"

    errors = client.get(f"/jobs/{job.id}/errors")
    sheet = load_workbook(io.BytesIO(errors.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER + ["错误行号", "错误原因"]
    fixed = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[6] for r in fixed] == [7, 9, 11, 102, 202]
    assert fixed[1][2] == id_number(3) and fixed[3][2] == id_number(100)  # every digit kept
    fixed[0][3:5] = ["女", "1990-01-31"]
    fixed[1][2] = id_number(n + 1)
    fixed[2][5] = "是"
    fixed[3][2], fixed[4][2] = id_number(n + 2), id_number(n + 3)
    sheet.delete_rows(2, sheet.max_row)
    for row in fixed:
        sheet.append(row)
    out = io.BytesIO()
    sheet.parent.save(out)
    again = upload_job(client, url(batch), out.getvalue(), "参保名单导入错误数据.xlsx")
    assert (again.result_data["imported"], again.result_data["failed"]) == (5, 0), again.result_data["errors"]
    assert entries(batch).count() == n + 1
    assert entries(batch).where(RosterEntry.id_number == "E7654321").get().gender == "女"


def test_the_wrong_template_is_refused_as_a_whole_file_and_nothing_is_queued(unit):
    code, batch, client = unit
    member_template = [["姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*"],
                       ["张三", "身份证", id_number(1), "13900000000", "男"]]
    swapped = [["证件号码", "姓名", "证件类型", "性别", "出生日期", "是否有社保"],
               [id_number(1), "张三", "居民身份证", "", "", "是"]]
    for rows in (member_template, swapped, [HEADER[:5], ["张三", "居民身份证", id_number(1), "", ""]]):
        for fmt in ("xlsx", "csv-utf8"):
            response = post_file(client, url(batch), *tablefiles.write(rows, fmt))
            assert response.status_code == 422
            assert soup(response).select_one("#roster-file-error").get_text().startswith("模板格式不正确")
    for data, name, message in [(b"", "a.xlsx", "上传的文件是空的"), (b"x", "a.pdf", "只能上传 Excel"),
                                (tablefiles.write([HEADER], "xlsx")[0], "a.xlsx", "文件中没有参保人员数据")]:
        response = post_file(client, url(batch), data, name)
        assert message in soup(response).select_one("#roster-file-error").get_text()
    assert response.status_code == 422
    assert not Job.select().where(Job.kind == roster_import.KIND).exists()
    assert entries(batch).count() == 0
    assert post_file(client, url(batch), b"", "").status_code == 422  # no file chosen


def test_only_the_codes_account_uploads_and_only_while_the_roster_is_open(app, city, unit, as_role):
    code, batch, client = unit
    data, name = tablefiles.write([HEADER] + rows_of(3), "csv-utf8")
    for state in (CHOOSE_ITEMS, ATTACH_REVIEW):
        locked = batch_in(approved_code(city, 10 + len(state)), state)
        owner = login(app, locked.code.account)
        page = soup(owner.get(url(locked)))
        assert "清册不能修改" in page.select_one("#upload-refusal").get_text()
        assert page.select_one("#roster-upload-form") is None
        response = post_file(owner, url(locked), data, name)
        assert response.status_code == 422 and "清册不能修改" in response.get_data(as_text=True)
    failed = batch_in(approved_code(city, 30), CHECK_FAILED)  # 清册校验不通过: still open
    assert upload_job(login(app, failed.code.account), url(failed), data, name).result_data["imported"] == 3
    stranger = login(app, approved_code(city, 3).account)  # same union, another account's code
    response = post_file(stranger, url(batch), data, name)
    assert "只能为本账号参保编码的参保批次上传参保名单" in response.get_data(as_text=True)
    reader = as_role("city")  # 市总工会 sees, writes nothing
    assert reader.get(url(batch)).status_code == 200
    assert post_file(reader, url(batch), data, name).status_code in (403, 422)
    assert as_role("district", 1).get(url(batch)).status_code == 404  # outside its subtree
    assert as_role("district", 1).get(url(batch) + "/template").status_code == 404
    assert client.get("/mutual-aid/batches/99999999/upload").status_code == 404
    assert entries(batch).count() == 0


def test_a_batch_locked_while_the_job_waits_gets_nothing(app, unit):
    code, batch, client = unit
    init_queue(DB_URL, "memory")
    try:
        job = upload_job(client, url(batch), *tablefiles.write([HEADER] + rows_of(3), "xlsx"))
    finally:
        init_queue(DB_URL, "immediate")
    assert job.status == QUEUED  # control came back at once
    page = soup(client.get(f"/mutual-aid/batches/uploads/{job.id}"))
    assert page.select_one('noscript meta[http-equiv="refresh"]') is not None
    assert page.select_one("#import-progress")["hx-trigger"] == "every 1s"
    batch_ops.move(batch, "submit", code.account)
    run_job(job.id)
    job = Job.get_by_id(job.id)
    assert job.status == FAILED and "清册不能修改" in job.error_list[0]
    assert entries(batch).count() == 0
    done = client.get(f"/mutual-aid/batches/uploads/{job.id}", headers={"HX-Request": "true"})
    assert done.status_code == 286


def test_the_registry_name_replaces_the_imported_one_and_the_member_name_is_kept(city, unit):
    code, batch, client = unit
    RegistryPayer.create(social_code="SB001", id_number=id_number(1), name="社保姓名", employment="退休")
    factories.make_member(city.orgs["grassroots1"], id_number=id_number(2), name="会员姓名")
    job = upload_job(client, url(batch), *tablefiles.write([HEADER] + rows_of(3), "xlsx"))
    assert job.result_data["matched"] == 1
    one = entries(batch).where(RosterEntry.id_number == id_number(1)).get()
    assert (one.name, one.imported_name, one.registry_name, one.employment, one.social_code) == (
        "社保姓名", "参保人1", "社保姓名", "退休", "SB001")
    assert one.registry_matched and one.name_warning is False
    two = entries(batch).where(RosterEntry.id_number == id_number(2)).get()
    assert (two.name, two.member_name, two.name_warning) == ("参保人2", "会员姓名", True)
    zero = entries(batch).where(RosterEntry.id_number == id_number(0)).get()
    assert (zero.registry_matched, zero.employment, zero.social_code) == (False, "-", "")


# --- a job killed halfway resumes -------------------------------------------------------------------
class Killed(Exception):
    pass


class DiesAfterFirstChunk(JobContext):
    def save_progress(self, done, total=None, checkpoint=None):
        if checkpoint and checkpoint.get("chunks", 0) >= 2:
            raise Killed("worker killed")
        super().save_progress(done, total, checkpoint)


def test_a_job_killed_after_its_first_chunk_resumes_and_adds_every_row_once(unit):
    code, batch, client = unit
    n = roster_import.CHUNK * 2 + 500
    rows = rows_of(n)
    rows[roster_import.CHUNK + 10][2] = id_number(4)  # a duplicate in the second chunk of a row in the first
    data, name = tablefiles.write([HEADER] + rows, "xlsx")
    stored_file("uploads", "roster-killed.bin").write_bytes(data)
    job = Job.create(kind=roster_import.KIND, title=roster_import.TITLE, owner=code.account_id,
                     org=code.account.org_id, status="运行中",
                     params=json.dumps({"upload": "roster-killed.bin", "account": code.account_id,
                                        "batch": batch.id, "file_name": name}))
    with pytest.raises(Killed):
        roster_import.run_import(DiesAfterFirstChunk(job))
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 1
    assert json.loads(Job.get_by_id(job.id).checkpoint)["chunks"] == 1
    assert entries(batch).count() == 0  # nothing goes in before every chunk is checked

    result = roster_import.run_import(JobContext(Job.get_by_id(job.id)))  # the restarted worker
    assert (result["imported"], result["failed"]) == (n - 1, 1)
    assert result["errors"][0]["row"] == roster_import.CHUNK + 12
    assert entries(batch).count() == n - 1
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    # killed after the rows went in, before the job was marked done: nothing goes in twice
    assert roster_import.run_import(JobContext(Job.get_by_id(job.id))) == result
    assert entries(batch).count() == n - 1


def test_a_worker_dying_after_chunk_k_is_resumed_at_chunk_k_not_restarted(unit, monkeypatch):
    """The run dies right after committing its second chunk (no clean-up runs, as under SIGKILL);
    the next worker's sweep re-queues the job; the second run checks and stages only the third
    chunk, its progress never goes back, every row goes in once, and the result page says so."""
    code, batch, client = unit
    n, k, chunks = roster_import.CHUNK * 2 + 500, 2, 3
    data, name = tablefiles.write([HEADER] + rows_of(n), "xlsx")
    stored_file("uploads", "roster-died.bin").write_bytes(data)
    job = Job.create(kind=roster_import.KIND, title=roster_import.TITLE, owner=code.account_id,
                     org=code.account.org_id, status=QUEUED,
                     params=json.dumps({"upload": "roster-died.bin", "account": code.account_id,
                                        "batch": batch.id, "file_name": name}))
    runs = ImportRuns(monkeypatch, roster_import.Checker, dies_after=k)
    rows = list(range(2, n + 2))  # the file's data rows (row 1 is the header)
    with pytest.raises(ProcessDied):
        run_job(job.id)
    died = Job.get_by_id(job.id)
    assert (died.status, died.attempts) == (RUNNING, 1)
    assert json.loads(died.checkpoint)["chunks"] == k and died.progress_done == k * roster_import.CHUNK
    assert (runs.checked, runs.staged) == (rows[:k * roster_import.CHUNK], list(range(k)))
    assert entries(batch).count() == 0

    runs.next_run()
    assert sweep_interrupted() == [job.id]
    job = Job.get_by_id(job.id)
    assert (job.status, job.attempts) == (DONE, 2)
    assert runs.checked == rows[k * roster_import.CHUNK:]  # the staged rows are not checked again
    assert runs.staged == list(range(k, chunks))
    assert runs.progress == sorted(runs.progress) and min(runs.progress) >= died.progress_done
    last = k * roster_import.CHUNK + 1
    assert job.result_data["runs"] == [{"attempt": 1, "chunks": [0, k], "rows": [2, last]},
                                       {"attempt": 2, "chunks": [k, chunks], "rows": [last + 1, n + 1]}]
    assert (job.result_data["imported"], job.result_data["failed"]) == (n, 0)
    assert entries(batch).count() == n
    assert entries(batch).select(RosterEntry.id_number).distinct().count() == n
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    note = soup(client.get(f"/mutual-aid/batches/uploads/{job.id}")).select_one(".job-runs").get_text()
    assert note.startswith(f"任务曾中断，已从断点继续：第1次运行校验了第2–{last}行后中断；"
                           f"第2次运行从第{last + 1}行继续")


def test_a_refusal_in_the_model_changes_nothing(unit):
    code, batch, client = unit
    with pytest.raises(DomainError, match="模板格式不正确"):
        roster_import.submit(batch, code.account, tablefiles.write([["姓名"], ["张三"]], "csv-utf8")[0], "a.csv")
    batch_in(code, TO_CHECK, kind=years.INSTANT, year=aid_year())
    assert not Job.select().exists()


def test_a_person_taken_by_another_unit_while_the_rows_go_in_leaves_the_file_out_whole(city, unit, monkeypatch):
    code, batch, client = unit
    other = approved_code(city, 2)
    taken = batch_in(other, TO_CHECK, year=batch.year)
    real_lookup = roster_import.registry.lookup

    def lookup_while_another_unit_adds(numbers, source=None):  # after the last check, before the insert
        roster_ops.add_entries(taken, [person(2)], other.account)
        return real_lookup(numbers, source)
    monkeypatch.setattr(roster_import.registry, "lookup", lookup_while_another_unit_adds)
    job = upload_job(client, url(batch), *tablefiles.write([HEADER] + rows_of(5), "csv-utf8"))
    assert job.status == FAILED
    assert job.error_list == ["导入期间有人员被其他单位（或本单位的其他操作）同时参保，本次未导入任何人员，"
                              "请重新上传该文件"]
    assert entries(batch).count() == 0 and not JobChunk.select().where(JobChunk.job == job.id).exists()
    monkeypatch.undo()
    again = upload_job(client, url(batch), *tablefiles.write([HEADER] + rows_of(5), "csv-utf8"))
    assert (again.result_data["imported"], again.result_data["failed"]) == (4, 1)
    assert "已被「上海互助测试2有限公司」占用" in again.result_data["errors"][0]["reason"]


def test_an_enterprise_uploads_its_roster_and_sees_the_result(app, city):
    """A unit without a union (企业注册) uploads like a union: its page, its template, its job's
    result (the routes once let only the union line in — 403 for the enterprise)."""
    account = enterprise_account(61)
    code = code_ops.decide(code_ops.apply(account, form(61), [("营业执照.png", png())]), True, city.account("centre"))
    batch = batch_in(code, TO_CHECK)
    client = login(app, account)
    assert client.get(url(batch)).status_code == 200
    assert client.get(url(batch) + "/template").status_code == 200
    data, _ = tablefiles.write([HEADER, *rows_of(2)], "xlsx")
    job = upload_job(client, url(batch), data, "名单.xlsx")
    assert job.result_data["imported"] == 2 and entries(batch).count() == 2
    assert client.get(f"/mutual-aid/batches/uploads/{job.id}").status_code == 200


@pytest.mark.parametrize("first", ["submission", "import"])
def test_an_import_and_a_submission_at_once_one_goes_first_and_the_other_sees_it(committed, monkeypatch, first):
    """The job's rows and 清册提交 each take the batch row first. `first` holds it (paused just after
    taking it) while the other starts and waits: the submission first → the job imports nothing (清册
    不能修改); the rows first → the submission re-checks the roster with them (here refused) — never a
    submitted batch whose roster changed after its check."""
    import threading
    import time

    from models import db
    from models.mutual_aid import roster_check
    from tests.factories.mutual_aid import IN_CENTRAL
    from tests.factories.mutual_check import insured_last_year, roster
    city = factories.make_city()
    code = approved_code(city, 1)
    insured_last_year(code, 3)
    batch = batch_in(code, TO_CHECK)
    roster(batch, 3)  # rule 2 passes: the batch could be submitted as it is
    init_queue(DB_URL, "memory")
    job = roster_import.submit(batch, code.account, *tablefiles.write([HEADER] + rows_of(2, start=900), "csv-utf8"))
    held, go_on, outcomes = threading.Event(), threading.Event(), {}
    module = batch_ops if first == "submission" else roster_import
    real_claim = module.claim

    def claim_and_hold(*args, **kwargs):
        real_claim(*args, **kwargs)
        if not held.is_set():
            held.set()
            go_on.wait(10)
    monkeypatch.setattr(module, "claim", claim_and_hold)

    def run(name, call):
        db.connect(reuse_if_open=True)
        try:
            call()
            outcomes[name] = "ok"
        except DomainError as exc:
            outcomes[name] = exc.message
        finally:
            db.close()
    calls = {"submission": lambda: roster_check.submit(batch, code.account, True, at=IN_CENTRAL),
             "import": lambda: run_job(job.id)}
    second = "import" if first == "submission" else "submission"
    threads = [threading.Thread(target=run, args=(name, calls[name])) for name in (first, second)]
    threads[0].start()
    assert held.wait(10)
    threads[1].start()
    time.sleep(0.3)  # the second is waiting for the batch row
    go_on.set()
    for thread in threads:
        thread.join(30)
    job, status = Job.get_by_id(job.id), AidBatch.get_by_id(batch.id).status
    if first == "submission":
        assert outcomes == {"submission": "ok", "import": "ok"} and status == CHOOSE_ITEMS
        assert job.status == FAILED and "清册不能修改" in job.error_list[0] and entries(batch).count() == 3
    else:
        assert job.status == DONE and entries(batch).count() == 5 and status == TO_CHECK
        assert outcomes["submission"].startswith("清册提交失败"), outcomes
