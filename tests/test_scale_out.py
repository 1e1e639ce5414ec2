"""Several app servers and workers (JOBS_MODE=redis, docs/deploy.md "Scaling out"): real worker
processes on Redis and the test database claim each job once — two at once never both run it, a
stalled worker's late chunk rolls back, a killed worker's job is resumed by another with every
effect exactly once — and a server or worker refuses to start without one SECRET_KEY and one
STORAGE_DIR, saying why."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import scale_out_refusal
from models import storage
from models.audit import AuditLog
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job, enqueue, init_queue
from models.jobs import queue as queue_of
from tests import jobkinds
from tests.conftest import DB_URL, ON_POSTGRES
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")




@pytest.fixture
def redis_queue(committed, monkeypatch, tmp_path):
    """A Redis queue of this test's own (REDIS_QUEUE), also used by this process to enqueue."""
    name = f"test-{secrets.token_hex(4)}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_QUEUE", name)
    monkeypatch.setenv("JOB_LEASE_SECONDS", "3")  # a stalled worker loses its job after 3 s
    (tmp_path / "storage").mkdir()
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))  # the workers' shared folder
    huey = init_queue(DB_URL, "redis")
    started = []

    def start():
        log = tmp_path / f"worker-{len(started)}.log"
        worker = subprocess.Popen([sys.executable, "-m", "tests.jobkinds", "worker", DB_URL, "redis"],
                                  cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                  stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        worker.log = log
        started.append(worker)
        return worker
    yield start
    for worker in started:
        if worker.poll() is None:
            worker.send_signal(signal.SIGCONT)
            worker.kill()
        worker.wait(10)
    huey.storage.flush_all()
    huey.storage.conn.delete(f"union:{name}:storage-marker")


def chunked_job(total: int, delay: float, gate: Path | None = None) -> Job:
    params = {"total": total, "chunk": 10, "delay": delay, **({"gate": str(gate)} if gate else {})}
    return Job.create(kind="test_chunked", title="测试分块任务", status=QUEUED, params=json.dumps(params))


def requeues(job: Job) -> int:
    return AuditLog.select().where((AuditLog.object_type == "Job") & (AuditLog.object_id == job.id)
                                   & (AuditLog.action == "任务中断后重新排队")).count()


def stderr_of(worker) -> str:
    return worker.log.read_text(errors="replace")[-3000:]


def test_two_workers_at_once_run_a_job_once(redis_queue, tmp_path):
    """The second worker starts while the first runs the job (its start used to put the job back
    in the queue, both ran it, and the job ended 失败 although every row was in), and the job is
    delivered twice: the first worker's claim holds, it finishes alone."""
    total, gate = 150, tmp_path / "go-on"
    job = chunked_job(total, 0.02, gate)  # after 2 chunks the job waits for the gate
    first = redis_queue()
    wait_for(lambda: Job.get_by_id(job.id).progress_done >= 20)
    second = redis_queue()
    enqueue(job.id)  # a duplicate delivery: the first worker (one thread) is busy, the second takes it
    wait_for(lambda: queue_of().pending_count() == 0)  # the second worker has started and taken it…
    assert Job.get_by_id(job.id).status == RUNNING  # …while the first still runs the job
    time.sleep(0.5)
    gate.touch()
    wait_for(lambda: Job.get_by_id(job.id).status in (DONE, FAILED))
    job = Job.get_by_id(job.id)
    assert job.status == DONE, stderr_of(first) + stderr_of(second)
    assert job.attempts == 1 and requeues(job) == 0
    assert jobkinds.effects() == list(range(total))  # every effect exactly once
    assert first.poll() is None and second.poll() is None


def test_a_stalled_worker_loses_its_job_and_its_late_chunk_rolls_back(redis_queue):
    """The first worker freezes (SIGSTOP: alive, but renewing nothing); once its lease lapses the
    second resumes the job from the checkpoint. Woken up, the first one's chunk finds its claim
    gone and rolls back: no effect twice, the job 已完成 by the second."""
    total = 150
    job = chunked_job(total, 0.05)
    first = redis_queue()
    wait_for(lambda: Job.get_by_id(job.id).progress_done >= 20)
    first.send_signal(signal.SIGSTOP)
    claim = Job.get_by_id(job.id).claimed_by
    second = redis_queue()
    wait_for(lambda: Job.get_by_id(job.id).claimed_by not in (None, claim), timeout=30)
    first.send_signal(signal.SIGCONT)
    wait_for(lambda: Job.get_by_id(job.id).status in (DONE, FAILED))
    job = Job.get_by_id(job.id)
    assert job.status == DONE, stderr_of(first) + stderr_of(second)
    assert job.attempts == 2 and requeues(job) == 1
    assert jobkinds.effects() == list(range(total))
    time.sleep(0.5)
    assert "claim lapsed and another worker resumes the job" in stderr_of(first)


def test_a_killed_workers_job_is_resumed_by_the_worker_already_running(redis_queue):
    """Two workers run; the one holding the job is killed (SIGKILL: nothing tells the database).
    The other notices (a dead process on this host, or the lapsed lease) and resumes the job from
    its checkpoint: every effect exactly once."""
    total = 150
    job = chunked_job(total, 0.1)
    workers = {w.pid: w for w in (redis_queue(), redis_queue())}
    wait_for(lambda: Job.get_by_id(job.id).progress_done >= 20)
    holder = int(Job.get_by_id(job.id).claimed_by.split(":")[1])  # host:pid:…
    first = workers.pop(holder)
    [second] = workers.values()
    first.kill()
    first.wait(10)
    killed = Job.get_by_id(job.id)
    assert killed.status == RUNNING and 0 < killed.progress_done < total
    assert jobkinds.effects() == list(range(killed.progress_done))
    try:
        wait_for(lambda: Job.get_by_id(job.id).status in (DONE, FAILED))
    except AssertionError:  # say what the job and the surviving worker were doing (a rare CI failure)
        raise AssertionError(f"not resumed: {Job.get_by_id(job.id).__data__}\n{stderr_of(second)}") from None
    job = Job.get_by_id(job.id)
    assert job.status == DONE, stderr_of(second)
    assert job.attempts == 2 and requeues(job) == 1
    assert jobkinds.effects() == list(range(total))


# --- refusing to start without one key and one folder ---------------------------------------------
def test_redis_mode_needs_an_explicit_secret_key_and_storage_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STORAGE_DIR", raising=False)
    folder = {"STORAGE_DIR": str(tmp_path)}
    assert "必须设置 SECRET_KEY" in scale_out_refusal(folder, {})
    assert "必须设置 STORAGE_DIR" in scale_out_refusal(folder, {"SECRET_KEY": "k" * 64})
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "not-mounted"))
    refused = scale_out_refusal({"STORAGE_DIR": str(tmp_path / "not-mounted")}, {})
    assert "不存在或不是目录" in refused and not (tmp_path / "not-mounted").exists()
    assert scale_out_refusal(folder, {}) is None


def test_redis_mode_refuses_a_storage_dir_it_cannot_write(tmp_path):
    """A read-only folder (root writes in any folder of its own: then sysfs, which nobody can write)."""
    tmp_path.chmod(0o500)
    folder = str(tmp_path) if os.geteuid() != 0 else "/sys/kernel"
    try:
        assert "不可写" in storage.shared_folder_refusal(folder)
    finally:
        tmp_path.chmod(0o700)


class Remembered:
    """Stands in for Redis (get, set with nx) in the marker check."""

    def __init__(self):
        self.values = {}

    def get(self, key):
        return self.values.get(key)

    def set(self, key, value, nx=False):
        if not (nx and key in self.values):
            self.values[key] = value.encode()


def test_every_process_must_see_the_folder_the_first_one_marked(tmp_path):
    redis, key = Remembered(), "union:jobs:storage-marker"
    shared, local, other = tmp_path / "shared", tmp_path / "local", tmp_path / "other"
    for folder in (shared, local, other):
        folder.mkdir()
    assert storage.shared_marker_refusal(str(shared), redis, key) is None  # the first server marks it
    assert (shared / storage.SHARED_MARKER).read_text().encode() == redis.get(key)
    assert storage.shared_marker_refusal(str(shared), redis, key) is None  # the worker, the second server
    refused = storage.shared_marker_refusal(str(local), redis, key)
    assert "没有它们写入的标记文件" in refused and not (local / storage.SHARED_MARKER).exists()
    (other / storage.SHARED_MARKER).write_text("another deployment's token")
    assert "不是同一个存储目录" in storage.shared_marker_refusal(str(other), redis, key)


def test_processes_starting_at_once_on_a_new_folder_agree(tmp_path):
    """Two first starts at once: whichever links its marker file first, both read its token."""
    redis, key = Remembered(), "union:jobs:storage-marker"
    first = storage._mark(tmp_path / storage.SHARED_MARKER)
    assert storage._mark(tmp_path / storage.SHARED_MARKER) == first  # the second finds the first's
    assert storage.shared_marker_refusal(str(tmp_path), redis, key) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [storage.SHARED_MARKER]  # no draft left


def test_a_process_that_read_no_marker_just_before_another_wrote_it_is_not_refused(tmp_path):
    """The CI race of two workers starting at once: this one finds no marker file, the other writes
    the file and then Redis, and only then does this one ask Redis — it reads the file again."""
    key = "union:jobs:storage-marker"

    class OtherStartsMeanwhile(Remembered):
        def get(self, key):
            if key not in self.values:  # the other process: the file first, then Redis
                self.values[key] = storage._mark(tmp_path / storage.SHARED_MARKER).encode()
            return super().get(key)
    assert storage.shared_marker_refusal(str(tmp_path), OtherStartsMeanwhile(), key) is None


def test_a_redis_that_does_not_answer_is_the_reason(tmp_path):
    class Down:
        def get(self, key):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    assert "无法连接 Redis" in storage.shared_marker_refusal(str(tmp_path), Down(), "k")


def _start(command: list, env: dict) -> subprocess.CompletedProcess:
    """`flask --app app <command>` as the operator runs it; a refused start ends at once."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_serve_and_worker_refuse_to_start_with_the_reason(tmp_path):
    """The real commands: a server without SECRET_KEY, and a worker whose STORAGE_DIR is not the
    folder the server marked, stop at once with the reason; neither writes a key of its own."""
    queue_name = f"test-{secrets.token_hex(4)}"
    shared, local = tmp_path / "shared", tmp_path / "local"
    shared.mkdir()
    local.mkdir()
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "STORAGE_DIR")}
    base.update(DATABASE_URL=DB_URL, JOBS_MODE="redis", REDIS_URL=REDIS_URL, REDIS_QUEUE=queue_name,
                INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    try:
        no_key = _start(["serve", "--no-worker", "--port", "0"], dict(base, STORAGE_DIR=str(shared)))
        assert no_key.returncode != 0 and "必须设置 SECRET_KEY" in no_key.stderr
        assert not (tmp_path / "instance" / "secret_key").exists()
        marked = _start(["deadlines"], dict(base, STORAGE_DIR=str(shared), SECRET_KEY="k" * 64))
        assert marked.returncode == 0, marked.stderr[-2000:]  # the first process marks the folder
        assert (shared / storage.SHARED_MARKER).exists()
        worker = _start(["worker"], dict(base, STORAGE_DIR=str(local), SECRET_KEY="k" * 64))
        assert worker.returncode != 0 and "没有它们写入的标记文件" in worker.stderr
    finally:
        import redis
        redis.Redis.from_url(REDIS_URL).delete(f"union:{queue_name}:storage-marker")


def test_one_hourly_sweep_at_a_time():
    """Every worker schedules the hourly sweep (reminders check, then post): while one worker
    sweeps, another's sweep does nothing. PostgreSQL: an advisory lock, here held by another
    connection as that worker's would be; SQLite (one server, one worker) always sweeps."""
    from models import job_leases
    from models.jobs import deadline_sweep
    if not ON_POSTGRES:
        assert "skipped" not in deadline_sweep()
        with job_leases.alone("deadline_sweep") as mine:
            assert mine
        return
    import zlib

    import psycopg2
    other, key = psycopg2.connect(DB_URL), zlib.crc32(b"union:deadline_sweep")
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s)", (key,))
        skipped = deadline_sweep()
        assert skipped["skipped"] and skipped["failed"] == [] and skipped["reminded"] == 0
        other.cursor().execute("SELECT pg_advisory_unlock(%s)", (key,))  # the other worker's sweep ends
        assert "skipped" not in deadline_sweep()
    finally:
        other.close()
