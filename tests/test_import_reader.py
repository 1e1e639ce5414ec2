"""The reader process of 批量导入 (models/io/tables.py:stream_table): an xlsx is parsed by openpyxl in a
second process while the job checks the rows already read. The rows are the same as read_table's,
its errors are the same Chinese messages, a file found bad halfway leaves nothing staged, a dead
reader fails the job cleanly, and a worker killed mid-import (reader and all) resumes."""

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
from tests.helpers import upload_job

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


# Every format with the default start method; the xlsx reader process also under "spawn" (only an
# xlsx has a reader process, so the other formats have no spawn case).
CASES = [(fmt, None) for fmt in tablefiles.FORMATS] + [("xlsx", "spawn")]


@pytest.mark.parametrize("fmt,start_method", CASES)
def test_streamed_rows_are_read_tables_rows(fmt, start_method):
    data, _name = tablefiles.write(sample_table(), fmt)
    expected = read_table(data, ["姓名"])
    with stream_table(data, ["姓名"], start_method=start_method) as table:
        assert table.in_process == (fmt != "xlsx")
        assert table.header == expected.header and table.kind == expected.kind
        rows = list(table.rows)
    assert rows == [(n, list(cells)) for n, cells in expected.rows]
    numbers = [c for _n, cells in rows for c in cells if isinstance(c, NumericText)]
    if not fmt.startswith("csv"):  # CSV has no number cells
        assert [str(c) for c in numbers] == ["13700000001", "12.5"]  # still NumericText after the pipe
    assert no_children_left()


def test_the_reader_process_is_used_for_xlsx_and_can_be_switched_off():
    data = normal_xlsx(sample_table())
    with stream_table(data, ["姓名"]) as table:
        assert not table.in_process and multiprocessing.active_children()
        assert table.size_hint == 4  # the sheet's declared rows minus the header
        list(table.rows)
    with stream_table(data, ["姓名"], reader_process=False) as table:
        assert table.in_process and not multiprocessing.active_children()
        assert table.size_hint == 3  # read up front: the exact count
    assert no_children_left()


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


def dies_after_first_batch(data, conn, batch, importer_end):
    """A reader process that dies (as if killed) after sending its first rows."""
    rows = tables._xlsx(data, sizes=lambda n: conn.send(("size", n)))
    conn.send(("rows", [next(rows) for _ in range(batch)]))
    os._exit(1)


def test_a_dead_or_crashing_reader_fails_the_job_for_the_admin_and_stages_nothing(as_role, city, monkeypatch):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    data, name = memberfiles.member_file(memberfiles.member_rows(3000, org=org), "xlsx")
    monkeypatch.setattr(tables, "_reader_main", dies_after_first_batch)  # fork: the child runs it too
    job = upload_job(client, "/members/import", data, name, category=OUTSIDE)
    assert job.status == FAILED and job.error_list == ["任务执行出错，请联系管理员"]
    assert Membership.select().where(Membership.org == org.id).count() == 0

    def broken(data, sizes=None):
        sizes(1)
        raise ValueError("openpyxl bug 310101199001011234")
        yield
    monkeypatch.undo()
    monkeypatch.setattr(tables, "_xlsx", broken)
    job = upload_job(client, "/members/import", data, name, category=OUTSIDE)
    assert job.status == FAILED and job.error_list == ["任务执行出错，请联系管理员"]
    assert JobChunk.select().count() == 0
    assert no_children_left()


def test_the_in_process_reader_gives_the_same_result(app, as_role, city, monkeypatch):
    org = city.orgs["grassroots1"]
    client = as_role("grassroots")
    rows = memberfiles.member_rows(2500, org=org)
    rows[2100]["证件号码"] = rows[6]["证件号码"]
    data, name = memberfiles.member_file(rows, "xlsx")
    monkeypatch.setitem(app.config, "IMPORT_READER_PROCESS", False)
    job = upload_job(client, "/members/import", data, name, category=OUTSIDE)
    assert job.status == DONE, job.errors
    assert (job.result_data["added"], job.result_data["failed"]) == (2499, 1)
    assert job.result_data["error_rows"][0][5] == "与第8行证件号码重复"


# --- a real worker killed in the middle of an import (its reader process with it) -------------------
def wait_for(predicate, timeout=60.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


def start_worker():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.jobkinds", "worker", DB_URL],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def children_of(pid: int) -> list[int]:
    """Child processes of `pid`, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie nobody reaps is gone too: it runs nothing


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the reader process")
def test_worker_killed_mid_import_resumes_and_its_reader_does_not_linger(committed):
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
    readers = []
    try:
        wait_for(lambda: Job.get_by_id(job.id).progress_done >= 2000)
        readers = children_of(first.pid)
        assert readers, "the reader process is parsing the rest of the file"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed = Job.get_by_id(job.id)
    assert killed.status == RUNNING and 0 < json.loads(killed.checkpoint)["chunks"] < n // importer.CHUNK
    assert Membership.select().where(Membership.org == org.id).count() == 0
    wait_for(lambda: all(gone(p) for p in readers), timeout=10)  # the orphaned reader ended itself

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
