"""The centre's 社保状态导入 and 个人参保导入 (申工社): row errors with an error file fixed and
uploaded again, later files updating earlier ones, the once-per-year rule seeing 申工社."""

import io
from datetime import date, timedelta

import pytest
import python_calamine
from openpyxl import load_workbook

from models.base import DomainError, today
from models.enroll import enrollment, plans
from models.enroll.enrollment import Enrollment, StatusRecord
from models.enroll.status_import import INDIVIDUAL_COLUMNS, STATUS_COLUMNS
from models.io import formats
from models.jobs import Job
from models.members.people import Person
from tests import factories
from tests.factories.memberfiles import id_number
from tests.helpers import post_file, upload_job, xlsx_sheet

xlsx = xlsx_sheet


def csv_gbk(header, rows) -> bytes:
    return "\n".join(",".join(map(str, r)) for r in [header, *rows]).encode("gbk")


def upload(client, kind, data, name="状态.xlsx") -> Job:
    return upload_job(client, "/plans/imports", data, name, kind=kind)


YESTERDAY = (today() - timedelta(days=1)).isoformat()


def test_status_file_with_errors_fixed_and_uploaded_again(as_role):
    centre = as_role("centre")
    good = [(id_number(i), f"甲{i}", "正常", "在职", "已缴纳", YESTERDAY) for i in range(3)]
    bad = [(id_number(10)[:-1] + "0" if id_number(10)[-1] != "0" else id_number(10)[:-1] + "1", "乙", "正常", "在职",
            "已缴纳", YESTERDAY),
           (id_number(11), "丙", "冻结", "在职", "已缴纳", YESTERDAY),
           (id_number(12), "丁", "正常", "在职", "已缴纳", "2099-01-01"),
           (id_number(0), "甲0", "正常", "退休", "已缴纳", YESTERDAY)]
    job = upload(centre, "status_import", xlsx(STATUS_COLUMNS, good + bad))
    result = job.result_data
    assert (result["imported"], result["failed"]) == (3, 4)
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert "证件号码：" in reasons[5] and "社保卡状态“冻结”不正确" in reasons[6]
    assert "状态日期不能晚于今天" in reasons[7] and "证件号码与第2行重复" in reasons[8]
    assert StatusRecord.select().count() == 3
    sheet = load_workbook(io.BytesIO(centre.get(f"/jobs/{job.id}/errors").data)).active
    rows = [list(r) for r in sheet.values]
    assert rows[0] == STATUS_COLUMNS + ["错误行号", "错误原因"]
    assert [r[-2] for r in rows[1:]] == sorted(reasons)  # the rows of the upload
    fixed = [[id_number(10), "乙", "正常", "在职", "已缴纳", YESTERDAY],
             [id_number(11), "丙", "封存", "在职", "未缴纳", YESTERDAY]]
    again = upload(centre, "status_import", xlsx(STATUS_COLUMNS, fixed))
    assert (again.result_data["imported"], again.result_data["failed"]) == (2, 0)
    assert StatusRecord.get(StatusRecord.id_number == id_number(11)).card_status == "封存"


def test_later_files_update_earlier_ones_but_not_with_older_dates(as_role):
    centre = as_role("centre")
    number = id_number(20)
    upload(centre, "status_import", xlsx(STATUS_COLUMNS, [(number, "甲", "正常", "在职", "已缴纳", "2026-11-01")]))
    upload(centre, "status_import", xlsx(STATUS_COLUMNS, [(number, "甲", "正常", "退休", "已缴纳", "2026-11-20")]))
    assert StatusRecord.get(StatusRecord.id_number == number).employment == "退休"
    older = upload(centre, "status_import",
                   xlsx(STATUS_COLUMNS, [(number, "甲", "正常", "在职", "已缴纳", "2026-10-01")]))
    assert older.result_data["already"] == 1
    assert StatusRecord.get(StatusRecord.id_number == number).employment == "退休"


def test_a_status_file_of_thousands_of_rows_in_gbk_csv(as_role):
    rows = [(id_number(1000 + i), f"员工{i}", "正常", "在职", "已缴纳", YESTERDAY) for i in range(3000)]
    job = upload(as_role("centre"), "status_import", csv_gbk(STATUS_COLUMNS, rows), "状态.csv")
    assert job.result_data["imported"] == 3000 and StatusRecord.select().count() == 3000


def test_wrong_file_and_wrong_role_change_nothing(as_role):
    response = post_file(as_role("centre"), "/plans/imports", b"a,b\n1,2\n", "x.csv", kind="status_import")
    assert response.status_code == 422 and "文件缺少必需的列" in response.get_data(as_text=True)
    assert as_role("district").get("/plans/imports").status_code == 403
    assert StatusRecord.select().count() == 0


def test_individual_enrollments_block_a_union_submission(city, as_role):
    year = plans.create_year(2027)
    member = factories.make_member(city.orgs["grassroots1"])
    stranger = id_number(77)
    rows = [(member.person.id_number, member.person.name, "2027", "A", "2027-03-01", "2027-12-31"),
            (stranger, "申工社个人", "2027年", "a", "2027-07-02", "2027-12-31"),
            (id_number(78), "乙", "2031", "A", "2031-01-01", "2031-12-31"),
            (id_number(79), "丙", "2027", "Z", "2027-01-01", "2027-12-31")]
    centre = as_role("centre")
    job = upload(centre, "individual_import", xlsx(INDIVIDUAL_COLUMNS, rows))
    result = job.result_data
    assert (result["imported"], result["failed"]) == (2, 2)
    assert "保障年度2031年尚未设置" in result["errors"][0]["reason"]
    assert "保障类型代码“Z”不是该年度的保障类型" in result["errors"][1]["reason"]
    created = Person.get(Person.id_number == stranger)  # registered from the ID number
    assert created.name == "申工社个人" and created.birth_date is not None
    half = Enrollment.get(Enrollment.person == created.id)
    assert (half.period, half.fee, half.source) == ("半年", 1300, "申工社")
    # the union cannot enroll the member again this year
    plans.save_split(city.orgs["district1"], plans.types_of(year)[0], "13", "0", city.account("district"),
                     at=plans.day_start(date(2026, 10, 28)))
    with pytest.raises(DomainError, match="本年度已通过申工社参保"):
        enrollment.submit(city.orgs["grassroots1"], year, enrollment.CARD_CHANNEL, enrollment.CENTRAL,
                          plans.types_of(year)[0], [member.person], None, on=date(2026, 11, 5))
    again = upload(centre, "individual_import", xlsx(INDIVIDUAL_COLUMNS, rows[:2]))
    assert (again.result_data["imported"], again.result_data["already"]) == (0, 2)
    assert Enrollment.select().count() == 2


def test_an_upload_is_parsed_once_when_its_job_runs_in_this_process(as_role, monkeypatch):
    """The pre-check parses the sheet and the job that follows in the same process reads that
    parse (models/io/formats.py): one calamine parse per upload — and a refused file leaves none."""
    original, parses = python_calamine.load_workbook, []

    def counting(*args, **kwargs):
        parses.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(python_calamine, "load_workbook", counting)
    centre = as_role("centre")
    rows = [(id_number(i), f"甲{i}", "正常", "在职", "已缴纳", YESTERDAY) for i in range(3)]
    job = upload(centre, "status_import", xlsx(STATUS_COLUMNS, rows))
    assert job.result_data["imported"] == 3 and StatusRecord.select().count() == 3
    assert len(parses) == 1
    refused = post_file(centre, "/plans/imports", xlsx(["姓名"], [("甲",)]), "x.xlsx", kind="status_import")
    assert refused.status_code == 422 and "文件缺少必需的列" in refused.get_data(as_text=True)
    assert formats._kept == {}


def count_parses(monkeypatch) -> list:
    original, parses = python_calamine.load_workbook, []

    def counting(*args, **kwargs):
        parses.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(python_calamine, "load_workbook", counting)
    return parses


@pytest.fixture
def queue_back():
    """A test that wires another queue gets the tests' immediate one back afterwards."""
    from models.jobs import init_queue
    from tests.conftest import DB_URL
    yield
    init_queue(DB_URL, "immediate")


def test_runs_here_only_with_the_in_process_queues(tmp_path, queue_back):
    """A job runs in the web process only with the in-memory queues; with JOBS_MODE sql or redis a
    worker process runs it."""
    from models.job_queue import runs_here
    from models.jobs import init_queue
    for mode, here in (("immediate", True), ("memory", True), ("sql", False), ("redis", False)):
        init_queue(f"sqlite:///{tmp_path / 'huey.db'}", mode)
        assert runs_here() is here, mode


def test_a_job_run_by_a_worker_process_leaves_no_sheet_in_the_web_process(as_role, monkeypatch, tmp_path,
                                                                          queue_back):
    """JOBS_MODE sql / redis: the job waits for a worker process, so the web process's pre-check
    keeps no parsed sheet (≈ 100 MB for 50,000 rows held for nothing); the worker parses the file."""
    from models.jobs import init_queue, run_job
    parses = count_parses(monkeypatch)
    centre = as_role("centre")
    rows = [(id_number(i), f"乙{i}", "正常", "在职", "已缴纳", YESTERDAY) for i in range(3)]
    init_queue(f"sqlite:///{tmp_path / 'huey.db'}", "sql")  # queued in huey's own SQLite file: no worker here
    job = upload(centre, "status_import", xlsx(STATUS_COLUMNS, rows))
    assert job.status == "排队中" and len(parses) == 1
    assert formats._kept == {}
    run_job(job.id)  # what the worker process does
    assert Job.get_by_id(job.id).result_data["imported"] == 3 and len(parses) == 2


def test_two_uploads_checked_at_once_each_job_reads_its_own_rows(monkeypatch):
    """Two pre-checks before either job runs: one sheet is kept (the later one); the earlier
    upload's job finds none for its file and parses the file itself — its own rows, never the
    other file's — and a refused third upload keeps nothing and evicts nothing."""
    from models.io.tables import check_table, read_table
    parses = count_parses(monkeypatch)
    first = xlsx(STATUS_COLUMNS, [(id_number(1), "甲", "正常", "在职", "已缴纳", YESTERDAY)])
    second = xlsx(STATUS_COLUMNS, [(id_number(2), "乙", "正常", "在职", "已缴纳", YESTERDAY)])
    check_table(first, STATUS_COLUMNS, keep=True)
    check_table(second, STATUS_COLUMNS, keep=True)
    with pytest.raises(DomainError):
        check_table(xlsx(["姓名"], [("丙",)]), STATUS_COLUMNS, keep=True)
    assert len(parses) == 3
    assert [r[1][1] for r in read_table(first, STATUS_COLUMNS).rows] == ["甲"] and len(parses) == 4
    assert [r[1][1] for r in read_table(second, STATUS_COLUMNS).rows] == ["乙"] and len(parses) == 4  # kept
    assert formats._kept == {}


def test_concurrent_uploads_in_threads_each_read_their_own_file(monkeypatch):
    """Eight uploads checked and read back in eight threads at once (the kept sheet under its
    lock): every job reads its own file's rows, and nothing stays kept afterwards."""
    import threading

    from models.io.tables import check_table, read_table
    files = [xlsx(STATUS_COLUMNS, [(id_number(i), f"线程{i}", "正常", "在职", "已缴纳", YESTERDAY)]) for i in range(8)]
    read, barrier = {}, threading.Barrier(len(files))

    def upload_and_run(i):
        barrier.wait()
        check_table(files[i], STATUS_COLUMNS, keep=True)
        read[i] = [r[1][1] for r in read_table(files[i], STATUS_COLUMNS).rows]
    threads = [threading.Thread(target=upload_and_run, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read == {i: [f"线程{i}"] for i in range(len(files))}
    assert formats._kept == {}
