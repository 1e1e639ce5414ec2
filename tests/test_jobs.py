"""Background jobs: the page returns while a job waits, progress polling stops when done, a
job killed halfway resumes from its checkpoint with no duplicate effects, failures explain
themselves, results download only in scope."""

import logging
import os
import signal
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from models.audit import AuditLog
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job, init_queue, run_job, sweep_interrupted
from tests import factories, jobkinds
from tests.conftest import DB_URL
from tests.helpers import job_of, soup, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def queued_mode():
    """Jobs stay 排队中 (a memory queue nobody consumes) — like a busy worker."""
    huey = init_queue(DB_URL, "memory")
    yield huey
    init_queue(DB_URL, "immediate")


def test_export_page_returns_at_once_while_the_job_is_queued(city, as_role, queued_mode):
    admin = as_role("admin")
    response = admin.post("/audit/export", data={"action": ""})
    job = job_of(response)
    assert job.status == QUEUED
    assert len(queued_mode.pending()) == 1  # handed to the queue, not run in the request

    page = soup(admin.get(f"/jobs/{job.id}"))
    assert page.select_one(".job-status").text == "排队中"
    assert "您可以离开本页面" in page.text
    # Without JavaScript the page refreshes itself; with htmx the fragment polls.
    assert page.select_one('noscript meta[http-equiv="refresh"]') is not None
    poll = page.select_one("#job-progress")
    assert poll["hx-trigger"] == "every 1s"
    assert poll["hx-get"] == f"/jobs/{job.id}/progress"

    still = admin.get(f"/jobs/{job.id}/progress", headers={"HX-Request": "true"})
    assert still.status_code == 200  # keep polling
    assert "<html" not in still.get_data(as_text=True)

    run_job(job.id)  # the worker picks it up
    done = admin.get(f"/jobs/{job.id}/progress", headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    fragment = soup(done)
    assert fragment.select_one(".job-status").text == "已完成"
    assert fragment.select_one("#job-progress").get("hx-trigger") is None
    assert fragment.find("a", string="下载结果")["href"] == f"/jobs/{job.id}/download"

    full = admin.get(f"/jobs/{job.id}")
    assert full.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    assert soup(full).select_one('noscript meta[http-equiv="refresh"]') is None


def test_progress_without_htmx_is_a_full_page(city, as_role):
    job = factories.make_job(city.orgs["district1"], status=DONE)
    response = as_role("district").get(f"/jobs/{job.id}/progress")
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)


def test_export_file_holds_the_log_with_formulas_neutralised(city, as_role):
    AuditLog.record("修改信息", city.orgs["district1"], reason="=HYPERLINK(\"http://x\")")
    admin = as_role("admin")
    response = admin.post("/audit/export", data={"action": "修改信息"})
    job_id = job_of(response).id
    assert Job.get_by_id(job_id).status == DONE
    download = admin.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    sheet = load_workbook(BytesIO(download.data)).active
    rows = list(sheet.values)
    assert rows[0][:6] == ("时间", "账号", "组织", "对象类型", "对象编号", "操作")
    assert len(rows) == 2
    assert rows[1][5] == "修改信息"
    assert rows[1][8] == "'=HYPERLINK(\"http://x\")"  # shown as text, never run


def test_result_of_another_organisation_is_404(city, as_role):
    job = factories.make_job(city.orgs["district2"])
    client = as_role("district")  # district1
    for url in (f"/jobs/{job.id}", f"/jobs/{job.id}/progress", f"/jobs/{job.id}/download"):
        assert client.get(url).status_code == 404, url
    assert as_role("district", 1).get(f"/jobs/{job.id}/download").status_code == 200


def test_job_list_shows_own_subtree_only(city, as_role):
    mine = factories.make_job(city.orgs["grassroots1"], status=DONE)
    other = factories.make_job(city.orgs["district2"], status=DONE)
    page = as_role("district").get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{mine.id}" in page
    assert f"/jobs/{other.id}" not in page


def submit(kind, params, account):
    return Job.submit(kind, params, account=account)


def test_a_refused_job_shows_its_reason_and_can_be_retried(city, as_role):
    account = city.accounts["district"][0]
    job = submit("test_refused", {}, account)
    assert job.status == FAILED
    client = as_role("district")
    page = soup(client.get(f"/jobs/{job.id}"))
    assert page.select_one(".alert-error").text == "第 3 行：证件号码校验位错误"

    response = client.post(f"/jobs/{job.id}/retry")
    assert response.status_code == 302
    job = Job.get_by_id(job.id)
    assert job.status == FAILED and job.attempts == 2  # ran again (immediate mode), failed again
    actions = [r.action for r in AuditLog.select().where(
        (AuditLog.object_type == "Job") & (AuditLog.object_id == job.id)).order_by(AuditLog.id)]
    assert actions == ["开始任务", "任务失败", "重试任务", "开始任务", "任务失败"]


def test_retry_is_refused_unless_failed(city, as_role):
    job = factories.make_job(city.orgs["district1"], status=DONE)
    response = as_role("district").post(f"/jobs/{job.id}/retry")
    assert response.status_code == 409
    assert "当前状态为「已完成」，不能执行「重试任务」" in response.get_data(as_text=True)
    assert Job.get_by_id(job.id).status == DONE


def test_a_crashing_job_tells_the_operator_to_call_the_admin_and_logs_masked(city, caplog):
    with caplog.at_level(logging.ERROR):
        job = submit("test_crash", {}, city.accounts["district"][0])
    assert job.status == FAILED
    assert job.error_list == ["任务执行出错，请联系管理员"]
    logged = caplog.text
    assert "secret internal detail" in logged  # the admin gets the traceback …
    assert "310101199001011234" not in logged  # … without the full personal number
    assert "3101 **** 1234" in logged


def test_chunked_job_runs_to_the_end_in_immediate_mode(city):
    job = submit("test_chunked", {"total": 25, "chunk": 10}, city.accounts["district"][0])
    assert (job.status, job.progress_done, job.progress_total) == (DONE, 25, 25)
    assert jobkinds.effects() == list(range(25))


def test_sweep_requeues_running_jobs_and_they_continue_from_the_checkpoint(city):
    """The in-process half of the restart story: a job left 运行中 at checkpoint 10."""
    job = Job.create(kind="test_chunked", title="测试分块任务", status=RUNNING, attempts=1,
                     params='{"total": 30, "chunk": 10}', checkpoint='{"next": 10}',
                     progress_done=10, progress_total=30)
    # the first chunk's effects were committed with that checkpoint
    for item in range(10):
        AuditLog.record("测试效果", object_type=jobkinds.EFFECT, object_id=item)
    assert sweep_interrupted() == [job.id]
    job = Job.get_by_id(job.id)
    assert job.status == DONE and job.attempts == 2
    assert jobkinds.effects() == list(range(30))




def start_worker():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.jobkinds", "worker", DB_URL],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_worker_killed_halfway_resumes_and_finishes_without_duplicates(committed):
    """Real worker processes (huey on the test database): the first is SIGKILLed in the middle
    of the job, the second starts, sweeps, and finishes from the checkpoint."""
    total = 200
    job = Job.create(kind="test_chunked", title="测试分块任务", status=QUEUED,
                     params=f'{{"total": {total}, "chunk": 10, "delay": 0.04}}')
    first = start_worker()
    try:
        wait_for(lambda: Job.get_by_id(job.id).progress_done >= total // 2)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed = Job.get_by_id(job.id)
    assert killed.status == RUNNING  # nobody told the database: the worker just died
    assert 0 < killed.progress_done < total
    assert jobkinds.effects() == list(range(killed.progress_done))  # checkpoint == effects

    second = start_worker()
    try:
        wait_for(lambda: Job.get_by_id(job.id).status in (DONE, FAILED))
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
        err = second.stderr.read().decode(errors="replace")
    job = Job.get_by_id(job.id)
    assert job.status == DONE, err[-2000:]
    assert job.attempts == 2
    assert (job.progress_done, job.progress_total) == (total, total)
    assert jobkinds.effects() == list(range(total))  # every effect exactly once
    requeue = AuditLog.get((AuditLog.object_type == "Job") & (AuditLog.object_id == job.id)
                           & (AuditLog.action == "任务中断后重新排队"))
    assert (requeue.from_state, requeue.to_state) == (RUNNING, QUEUED)
