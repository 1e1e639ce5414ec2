"""The streaming reader of the big imports (models/io/tables.py:stream_table; xlsx and xls parsed by
python-calamine in the job's own process). The rows are the same as read_table's, its errors are
the same Chinese messages, a file found bad halfway leaves nothing staged, a parser that fails fails
the job cleanly, and a worker killed mid-import resumes."""

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from models.base import DomainError
from models.io import tables
from models.io.tables import NumericText, read_table, stream_table
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job, JobChunk, JobContext
from models.members import member_import as importer
from models.members.people import OUTSIDE, Membership
from models.storage import stored_file
from tests.conftest import DB_URL
from tests.factories import memberfiles, tablefiles
from tests.helpers import upload_job, wait_for

ROOT = Path(__file__).resolve().parent.parent


def sample_table():
    return [["姓名*", "证件号码", "数字", "日期", ""],
            ["张三", "310101199001011234", 13700000001, None, None],
            [None, None, None, None, None],  # an empty row in the middle
            ["李四", " 310101199001015678 ", 12.5, "2024-01-31", "x"],
            ["王五"]]


def normal_xlsx(rows) -> bytes:
    """openpyxl's normal mode (shared strings, a declared dimension), like Excel."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def no_children_left():
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return multiprocessing.active_children() == []


@pytest.mark.parametrize("fmt", tablefiles.FORMATS)
def test_streamed_rows_are_read_tables_rows(fmt):
    data, _name = tablefiles.write(sample_table(), fmt)
    expected = read_table(data, ["姓名"])
    with stream_table(data, ["姓名"]) as table:
        assert table.header == expected.header and table.kind == expected.kind
        rows = list(table.rows)
    assert rows == [(n, list(cells)) for n, cells in expected.rows]
    numbers = [c for _n, cells in rows for c in cells if isinstance(c, NumericText)]
    if not fmt.startswith("csv"):  # CSV has no number cells
        assert [str(c) for c in numbers] == ["13700000001", "12.5"]
    assert no_children_left()  # read in this process: no reader process to leave behind


@pytest.mark.parametrize("fmt,hint", [("xlsx", 4), ("xls", 4), ("csv-utf8", 3)])
def test_the_size_hint_is_known_before_the_rows_are_read(fmt, hint):
    """A sheet: its rows below the header up to the last (the empty one among them counts) — so
    the progress of a 50,000-row file has its total from the first chunk; a CSV: read up front."""
    data, _name = tablefiles.write([[None, None], *sample_table()], fmt)  # a blank row above the header
    with stream_table(data, ["姓名"]) as table:
        assert table.size_hint == hint
        assert [n for n, _cells in table.rows] == [3, 5, 6]  # the rows keep their numbers in the file


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    return buffer.getvalue()


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize("data,message", [
    (b"PK\x03\x04broken zip", "文件已损坏，无法读取，请重新保存为 Excel 后上传"),
    (zip_bomb(), "文件解压后过大，疑似异常文件，已拒绝"),
    (zip_without_workbook(), "无法读取该文件，请上传Excel（.xlsx、.xls）或 CSV文件"),
])
def test_the_readers_errors_are_the_same_chinese_messages(data, message):
    with pytest.raises(DomainError) as in_process:
        read_table(data, [])
    with pytest.raises(DomainError) as streamed:
        stream_table(data, [])
    assert in_process.value.message == streamed.value.message == message
    assert streamed.value.status == 422
    assert no_children_left()


def test_header_errors_stop_the_reader():
    data = normal_xlsx([["姓名", "证件号码"], ["张三", "1"]])
    with pytest.raises(DomainError, match="文件缺少必需的列：手机号码"):
        stream_table(data, ["姓名", "手机号码"])
    with pytest.raises(DomainError, match="文件中没有表头和数据"):
        stream_table(normal_xlsx([[None, None]]), [])
    assert no_children_left()


def new_job(org, account, data, name="members.xlsx", upload="reader.bin"):
    stored_file("uploads", upload).write_bytes(data)
    return Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status=RUNNING,
                      params=json.dumps({"upload": upload, "account": account.id, "org": org.id,
                                         "file_name": name, "category": OUTSIDE}))


def test_a_file_too_long_found_halfway_fails_and_leaves_nothing_staged(city, monkeypatch):
    org, account = city.orgs["grassroots1"], city.account("grassroots")
    monkeypatch.setattr(importer, "MAX_ROWS", 4500)  # the limit is met in the third chunk
    data, name = memberfiles.member_file(memberfiles.member_rows(5000, org=org), "xlsx")
    job = new_job(org, account, data, name)
    with pytest.raises(DomainError, match="文件超过4500行，请拆分后分批导入"):
        importer.run_import(JobContext(job))
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert json.loads(Job.get_by_id(job.id).checkpoint) == {}  # a retry starts from the first row
    assert Membership.select().where(Membership.org == org.id).count() == 0
    assert no_children_left()


def test_a_parser_failing_halfway_fails_the_job_for_the_admin_and_applies_nothing(as_role, city, monkeypatch):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    data, name = memberfiles.member_file(memberfiles.member_rows(3000, org=org), "xlsx")
    real = tables._xlsx

    def broken(data, sizes=None):
        rows = real(data, sizes)
        for _ in range(2500):  # two chunks checked and staged, then the parser fails
            yield next(rows)
        raise ValueError("calamine bug 310101199001011234")
    monkeypatch.setattr(tables, "_xlsx", broken)
    job = upload_job(client, "/members/import", data, name, category=OUTSIDE)
    assert job.status == FAILED and job.error_list == ["任务执行出错，请联系管理员"]
    assert Membership.select().where(Membership.org == org.id).count() == 0


# --- a real worker killed in the middle of an import ----------------------------------------------


def start_worker():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.jobkinds", "worker", DB_URL],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_worker_killed_mid_import_resumes(committed):
    from tests import factories
    city = factories.make_city()
    org, account = city.orgs["grassroots1"], city.account("grassroots")
    n = 12_000  # twelve chunks of importer.CHUNK
    data, name = memberfiles.member_file(memberfiles.member_rows(n, org=org), "xlsx")
    stored_file("uploads", "killed-worker.bin").write_bytes(data)
    job = Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status=QUEUED,
                     params=json.dumps({"upload": "killed-worker.bin", "account": account.id, "org": org.id,
                                        "file_name": name, "category": OUTSIDE}))
    first = start_worker()
    try:
        wait_for(lambda: Job.get_by_id(job.id).progress_done >= 2000)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed = Job.get_by_id(job.id)
    assert killed.status == RUNNING and 0 < json.loads(killed.checkpoint)["chunks"] < n // importer.CHUNK
    assert Membership.select().where(Membership.org == org.id).count() == 0

    second = start_worker()
    try:
        wait_for(lambda: Job.get_by_id(job.id).status in (DONE, FAILED), timeout=120)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
        err = second.stderr.read().decode(errors="replace")
    job = Job.get_by_id(job.id)
    assert job.status == DONE, err[-2000:]
    assert job.result_data["added"] == n and job.result_data["failed"] == 0
    assert Membership.select().where(Membership.org == org.id).count() == n
    assert JobChunk.select().count() == 0
    # the second worker went on from the first one's last committed chunk; it did not start again
    # (the first may commit one more chunk between the read above and the kill)
    first_run, second_run = job.result_data["runs"]
    assert (first_run["attempt"], second_run["attempt"], job.attempts) == (1, 2, 2)
    assert first_run["chunks"][0] == 0 and first_run["rows"][0] == 2
    assert second_run["chunks"] == [first_run["chunks"][1], n // importer.CHUNK]
    assert second_run["chunks"][0] >= json.loads(killed.checkpoint)["chunks"]
    assert second_run["rows"] == [first_run["rows"][1] + 1, n + 1]
