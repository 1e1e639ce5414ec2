"""Background jobs: huey for execution, the Job table for progress, checkpoint and result.

A job handler is a function registered with `@job_kind(name, title)` that takes a JobContext.
It works in chunks; each chunk writes its effects AND `ctx.save_progress(...)` in one
transaction, so a job killed halfway resumes from its last checkpoint without duplicating work.
A worker claims a job (`run_job`: UPDATE … WHERE status = 排队中, with its claim and a lease of
JOB_LEASE_SECONDS) and renews the lease while it runs (`_keep_leases`); every checkpoint is written
only while the claim holds (`save_progress`: … WHERE claimed_by = the claim), so a worker that lost
its job rolls its chunk back and stops. `requeue_stale()` (when a worker starts, and every few
seconds in every worker) puts back in the queue the jobs whose lease lapsed — their worker died —
and never a job another live worker is running: several workers (JOBS_MODE=redis, several
machines) never run the same job, and a killed worker's job is resumed by another.
"""

import gc
import json
import logging
import os
import secrets
import socket
import threading
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import peewee as pw
from huey import MemoryHuey, crontab
from huey.contrib.sql_huey import SqlHuey

from models import db, messages, storage
from models.base import BaseModel, DomainError, now
from models.storage import UPLOAD_DIRS, stored_file, upload_retention_days
from models.workflow import Workflow, bulk_transition, transition

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "排队中", "运行中", "已完成", "失败"
KINDS: dict = {}  # name → (handler, Chinese title)
_queue = {"huey": None}


def job_kind(name: str, title: str):
    def register(fn):
        KINDS[name] = (fn, title)
        return fn
    return register


def staged_import(name: str, title: str):
    """job_kind for a staged import (JobContext.stage) under bulk_work(); once applied: the kept result."""
    def register(fn):
        def run(ctx):
            with bulk_work():
                if ctx.checkpoint.get("applied"):  # applied before the worker died: only the result is left
                    return ctx.checkpoint["result"]
                return fn(ctx)
        return job_kind(name, title)(run)
    return register


class Job(BaseModel):
    WORKFLOW = Workflow("status", {
        (QUEUED, "start"): RUNNING,
        (RUNNING, "finish"): DONE,
        (RUNNING, "fail"): FAILED,
        (RUNNING, "requeue"): QUEUED,  # interrupted (worker killed) → back in the queue
        (FAILED, "retry"): QUEUED,
    }, actions={"start": "开始任务", "finish": "任务完成", "fail": "任务失败",
                "requeue": "任务中断后重新排队", "retry": "重试任务"})
    QUEUED, RUNNING, DONE, FAILED = QUEUED, RUNNING, DONE, FAILED  # for templates: x.status == x.DONE

    owner = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="CASCADE")
    kind = pw.CharField(max_length=40)
    title = pw.CharField(max_length=100)
    status = pw.CharField(max_length=10, default=QUEUED, index=True)
    params = pw.TextField(default="{}")
    progress_done = pw.IntegerField(default=0)
    progress_total = pw.IntegerField(default=0)
    checkpoint = pw.TextField(default="{}")
    result = pw.TextField(default="{}")
    errors = pw.TextField(default="[]")
    attempts = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=now)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)
    # the worker's claim on the running job ("host:pid:random") and when it lapses unless renewed
    claimed_by = pw.CharField(max_length=80, null=True)
    lease_until = pw.DateTimeField(null=True)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def result_data(self) -> dict:
        return json.loads(self.result or "{}")

    @property
    def error_list(self) -> list:
        return json.loads(self.errors or "[]")

    @property
    def params_data(self) -> dict:
        return json.loads(self.params or "{}")

    @property
    def upload_removed(self) -> str:
        """Why the uploaded file is gone (deleted after the retention period), or ""."""
        removed = self.params_data.get("upload_removed")
        if not removed:
            return ""
        return f"上传的文件已在任务结束{removed['days']}天后删除（{removed['on']}，保护文件中的证件号码）"

    @property
    def results_removed(self) -> str:
        """Why the job's result and error files are gone (deleted after the retention), or ""."""
        removed = self.params_data.get("results_removed")
        if not removed:
            return ""
        return (f"结果文件和错误数据文件已在任务结束{removed['days']}天后删除（{removed['on']}，"
                "保护文件中的证件号码），如仍需要请重新导出或重新导入")

    @classmethod
    def submit(cls, kind: str, params: dict | None = None, account=None) -> "Job":
        """Create the Job row and hand it to the queue; returns at once (unless immediate)."""
        if kind not in KINDS:
            raise DomainError(f"未知的任务类型：{kind}")
        job = cls.create(kind=kind, title=KINDS[kind][1], params=json.dumps(params or {}),
                         owner=account.id if account else None,
                         org=account.org_id if account else None)
        enqueue(job.id)
        return cls.get_by_id(job.id)


# Jobs whose files hold complete personal numbers: not for the read-only 市总工会 account.
FULL_NUMBER_KINDS = {"member_import", "member_compare", "claim_import"}
FULL_NUMBERS_REFUSED = "市总工会账号为只读查看，不能下载含完整证件号码的文件"


def download_refusal(job: Job, account) -> str | None:
    """Why the account may not download this job's files (None: it may): a job of full numbers
    for an account that sees them masked."""
    if job.kind in FULL_NUMBER_KINDS and not account.sees_full_numbers:
        return FULL_NUMBERS_REFUSED
    return None


def acts_for(job: Job, account) -> bool:
    """The account is of the organisation that started the job, or the admin."""
    return account.is_admin or job.org_id == account.org_id


def retry(job: Job, by) -> Job:
    """重试: a failed job goes back in the queue (refused with the reason in any other state).
    Only the organisation that started it (or the admin) may — a retried import acts for it —
    and only while its upload is still there."""
    if not acts_for(job, by):
        raise DomainError("只有提交该任务的单位可以重试", 403)
    if job.upload_removed:
        raise DomainError(f"{job.upload_removed}，不能重试，请重新上传", 409)
    job = transition(job, "retry", account=by)
    enqueue(job.id)
    return job


@contextmanager
def bulk_work():
    """Around a job that builds tens of thousands of small objects (an import's rows): Python's
    cyclic garbage collector would rescan the growing heap again and again (a fifth of a
    50,000-row import); reference counting still frees everything, the collector runs again
    afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class JobChunk(BaseModel):
    """Staging for imports (spec 05): a job parses and validates its file into numbered chunks
    (each committed with its checkpoint), then applies them in one short transaction."""
    scope_field = None
    job = pw.ForeignKeyField(Job, backref="chunks", on_delete="CASCADE")
    seq = pw.IntegerField()
    data = pw.TextField()  # JSON: the chunk's parsed, checked rows

    class Meta:
        indexes = ((("job", "seq"), True),)


class LeaseLost(Exception):  # noqa: N818 — a state, not a failure of the job
    """This worker's claim on the job lapsed and the job went back to the queue (or to another
    worker): the chunk's transaction rolls back and this run stops, leaving the job to its new
    owner."""


class JobContext:
    def __init__(self, job: Job, claim: str | None = None):
        self.job = job
        self.claim = claim  # run_job's claim; None when a test calls a handler directly
        self.params = job.params_data
        self.checkpoint = json.loads(job.checkpoint or "{}")

    def save_progress(self, done: int, total: int | None = None, checkpoint: dict | None = None):
        """Record progress; call it inside the same db.atomic() as the chunk's effects. Written
        only while this worker's claim holds (and renews its lease): otherwise LeaseLost, and the
        chunk's effects roll back with it."""
        values = {Job.progress_done: done}
        if total is not None:
            values[Job.progress_total] = total
        if checkpoint is not None:
            values[Job.checkpoint] = json.dumps(checkpoint)
        if self.claim is None:
            Job.update(values).where(Job.id == self.job.id).execute()
        else:
            values[Job.lease_until] = lease_end()
            held = (Job.id == self.job.id) & (Job.status == RUNNING) & (Job.claimed_by == self.claim)
            if Job.update(values).where(held).execute() != 1:
                raise LeaseLost(f"job {self.job.id}: claim {self.claim} lapsed")
        if checkpoint is not None:
            self.checkpoint = checkpoint

    def staged(self, done: int, remember) -> list:
        """An import's checked rows staged (JobChunk) before chunk `done`; `remember(part)` sees each."""
        rows = []
        for chunk in (JobChunk.select().where((JobChunk.job == self.job.id) & (JobChunk.seq < done))
                      .order_by(JobChunk.seq)):
            part = json.loads(chunk.data)
            remember(part)
            rows.extend(part)
        return rows

    def stage(self, seq: int, part: list, done: int, total: int) -> None:
        """Stage chunk `seq` and record the progress (next chunk seq + 1) in one transaction."""
        with db.atomic():
            JobChunk.insert(job=self.job.id, seq=seq, data=json.dumps(part, ensure_ascii=False)).execute()
            self.save_progress(done, total, checkpoint={"chunks": seq + 1})

    def applied(self, total: int, chunks: int, result: dict) -> None:  # in the apply's transaction
        JobChunk.delete().where(JobChunk.job == self.job.id).execute()
        self.save_progress(total, total, checkpoint={"chunks": chunks, "applied": True, "result": result})

    def reset_staged(self) -> None:  # a file found bad while read, an apply failed: start again
        with db.atomic():
            JobChunk.delete().where(JobChunk.job == self.job.id).execute()
            self.save_progress(0, None, checkpoint={})


def lease_seconds() -> int:
    """How long a claim holds without renewal (JOB_LEASE_SECONDS, default 60): a killed worker's
    job is resumed by another worker this long after its last renewal at the latest."""
    return max(3, int(os.environ.get("JOB_LEASE_SECONDS", "60")))


def lease_end():
    return now() + timedelta(seconds=lease_seconds())


_claims: set = set()  # this process's claims on running jobs (renewed by _keep_leases)
_claims_lock = threading.Lock()


def new_claim() -> str:
    """A claim names its worker process ("host:pid:…", so a worker on the same host can tell a
    dead one's job at once) and is unique to one run of one job."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(6)}"


def run_job(job_id: int) -> None:
    """Run one job to the end (the body of the huey task). Safe to call twice, from any number of
    workers: the claim is a compare-and-set UPDATE … WHERE status = 排队中 that one wins."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None or job.status != QUEUED:
        return
    claim = new_claim()
    with _claims_lock:  # held before it is written: the lease keeper never takes it for a dead one's
        _claims.add(claim)
    try:
        try:
            job = transition(job, "start", updates={"started_at": now(), "attempts": job.attempts + 1,
                                                    "claimed_by": claim, "lease_until": lease_end()})
        except DomainError:
            return  # another worker took it
        _run_claimed(job, claim)
    except LeaseLost:
        log.warning("job %s: this worker's claim lapsed and another worker resumes the job", job_id)
    finally:
        with _claims_lock:
            _claims.discard(claim)


def _end(job_id: int, claim: str, action: str, updates: dict, notice: tuple) -> None:
    """完成 / 失败 of a claimed job and its 消息提醒 in one transaction — only while the claim holds."""
    job = Job.get_by_id(job_id)
    if job.status != RUNNING or job.claimed_by != claim:
        raise LeaseLost(f"job {job_id}: claim {claim} lapsed")
    with db.atomic():
        try:
            bulk_transition(Job, [job], action, updates=updates, where=Job.claimed_by == claim)
        except DomainError as exc:
            raise LeaseLost(f"job {job_id}: claim {claim} lapsed") from exc
        _notify(job, *notice)


def _run_claimed(job: Job, claim: str) -> None:
    handler, _title = KINDS[job.kind]
    try:
        result = handler(JobContext(job, claim)) or {}
    except LeaseLost:
        raise
    except Exception as exc:  # noqa: BLE001 — a failed job records its reason for the operator
        log.exception("job %s failed", job.id)
        message = exc.message if isinstance(exc, DomainError) else "任务执行出错，请联系管理员"
        _end(job.id, claim, "fail",
             {"finished_at": now(), "errors": json.dumps([message], ensure_ascii=False)},
             (f"后台任务「{job.title}」失败：{message}",))
        return
    done = Job.get_by_id(job.id)
    _end(job.id, claim, "finish", {"finished_at": now(), "result": json.dumps(result, ensure_ascii=False),
                                   "progress_done": max(done.progress_done, done.progress_total)},
         (f"后台任务「{job.title}」已完成", result.get("summary", "")))


def _notify(job: Job, title: str, body: str = "") -> None:
    """消息提醒 to the job's owner."""
    if job.org_id is None:
        return
    messages.post(job.org_id, title, body=body, link=f"/jobs/{job.id}", kind="后台任务",
                  account=job.owner_id)


def _dead_here(claim: str | None) -> bool:
    """The claim's worker ran on this host and its process is gone (killed, crashed)."""
    host, _, rest = (claim or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:50] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return not any(c == claim for c in _claims)  # this process: a claim no thread holds
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def requeue_stale() -> list[int]:
    """Put back in the queue (排队中, then enqueued) every running job whose worker is gone: its
    lease lapsed, or its process on this host no longer exists. A job a live worker runs (its
    lease renewed) is left alone. Returns the jobs re-queued."""
    lapsed = Job.lease_until.is_null() | (Job.lease_until < now())
    ids = []
    for job in Job.select().where(Job.status == RUNNING).order_by(Job.id):
        if not (job.lease_until is None or job.lease_until < now() or _dead_here(job.claimed_by)):
            continue
        still = Job.claimed_by == job.claimed_by if job.claimed_by else Job.claimed_by.is_null()
        if not _dead_here(job.claimed_by):
            still &= lapsed
        try:
            bulk_transition(Job, [job], "requeue", reason="工作进程中断，任务从断点继续",
                            updates={"claimed_by": None, "lease_until": None}, where=still)
        except DomainError:
            continue  # renewed or re-queued meanwhile
        ids.append(job.id)
    for job_id in ids:
        enqueue(job_id)
    return ids


def sweep_interrupted() -> list[int]:
    """At worker start: jobs left 运行中 by a dead worker go back to 排队中 (`requeue_stale`); all
    queued jobs are (re)enqueued. A duplicate enqueue is harmless: run_job's claim lets one win."""
    requeued = requeue_stale()
    queued = [job_id for (job_id,) in Job.select(Job.id).where(Job.status == QUEUED).order_by(Job.id).tuples()
              if job_id not in requeued]
    for job_id in queued:
        enqueue(job_id)
    return sorted(requeued + queued)


def _keep_leases(stop: threading.Event, interval: float) -> None:
    """The worker's lease keeper: renews this process's claims, and re-queues the jobs of dead
    workers (another worker's crash is noticed within a lease)."""
    while not stop.wait(interval):
        try:
            with db.connection_context():
                with _claims_lock:
                    claims = list(_claims)
                if claims:
                    Job.update(lease_until=lease_end()).where(
                        Job.claimed_by.in_(claims) & (Job.status == RUNNING)).execute()
                requeued = requeue_stale()
            if requeued:
                log.warning("已重新排队中断的任务：%s", requeued)
        except Exception:  # noqa: BLE001 — a database hiccup: try again at the next tick
            log.exception("lease keeper")


# The result keys naming a job's files in jobs/ (exports, error files, 同步会员's new members):
# they hold ID numbers as uploaded or unmasked, so they go after the same retention as the upload.
RESULT_FILE_KEYS = ("file", "error_file")


def purge_uploads(days: int | None = None) -> list[int]:
    """Delete the uploaded file (and the staged rows) and the result and error files of every job
    that ended more than `days` (UPLOAD_RETENTION_DAYS) ago; the job keeps its result and notes
    when and why the files went (`upload_removed`, `results_removed`). A queued or running job
    keeps its files. Returns the jobs purged (none twice)."""
    days = upload_retention_days() if days is None else days
    has_upload = Job.params.contains('"upload"') & ~Job.params.contains('"upload_removed"')
    has_results = ((Job.result.contains('"file"') | Job.result.contains('"error_file"'))
                   & ~Job.params.contains('"results_removed"'))
    ended = (Job.select().where(Job.status.in_([DONE, FAILED]) & (Job.finished_at < now() - timedelta(days=days))
                                & (has_upload | has_results))
             .order_by(Job.id))
    purged = []
    for job in ended:
        params, result = job.params_data, job.result_data
        upload = params.get("upload") if "upload_removed" not in params else None
        results = [] if "results_removed" in params else [result[k] for k in RESULT_FILE_KEYS if result.get(k)]
        if not upload and not results:
            continue
        note = {"on": now().strftime("%Y-%m-%d"), "days": days}
        for name in results:
            stored_file("jobs", name).unlink(missing_ok=True)
        if results:
            params["results_removed"] = note
        if upload:
            for sub in UPLOAD_DIRS:
                stored_file(sub, upload).unlink(missing_ok=True)
            params["upload_removed"] = note
        with db.atomic():
            if upload:
                JobChunk.delete().where(JobChunk.job == job.id).execute()
            Job.update(params=json.dumps(params, ensure_ascii=False)).where(Job.id == job.id).execute()
        purged.append(job.id)
    return purged


HOURLY: dict = {}  # result key → a function of the areas run by every deadline sweep (@hourly)


def hourly(key: str):
    """Register an area's sweep (a function taking no arguments, idempotent) in `deadline_sweep`;
    its result is reported under `key` (models/review/batches.py: "failed", "reminded")."""
    def register(fn):
        HOURLY[key] = fn
        return fn
    return register


def deadline_sweep() -> dict:
    """The scheduled hourly sweep (idempotent: a run that was killed is simply run again): the
    areas' registered sweeps (缴费截止 passed → unpaid centralized batches 失败; reminders of
    approaching deadlines); uploads and result files of jobs older than UPLOAD_RETENTION_DAYS
    deleted (`purge_uploads`), and files kept for unfinished forms after a day (`storage.purge_kept`)."""
    with db.connection_context() if db.is_closed() else nullcontext():
        return {**{key: fn() for key, fn in HOURLY.items()},
                "purged": purge_uploads(), "kept_purged": storage.purge_kept()}


def run_worker(workers: int = 2, echo=print) -> None:
    """The job worker process (`flask worker`): re-queue interrupted jobs, run the deadline sweep
    once (a worker that was down over a deadline catches up), then consume (the sweep runs hourly)."""
    requeued = sweep_interrupted()
    if requeued:
        echo(f"已重新排队中断的任务：{requeued}")
    swept = deadline_sweep()
    if swept["failed"]:
        echo(f"逾期未缴费，已标记失败的参保批次：{swept['failed']}")
    stop = threading.Event()
    threading.Thread(target=_keep_leases, args=(stop, max(1.0, lease_seconds() / 4)),
                     name="job-leases", daemon=True).start()
    # max_delay: an idle worker still picks up a new job within 2 s.
    consumer = queue().create_consumer(workers=workers, worker_type="thread", max_delay=2.0)
    try:
        consumer.run()
    finally:
        stop.set()


# --- queue wiring -----------------------------------------------------------------------------
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def init_queue(database_url: str, mode: str = "sql"):
    """mode: 'sql' (huey tables in the app database), 'redis' (REDIS_URL; several app servers),
    'immediate' (tests), 'memory' (tests that need a job to stay queued)."""
    if mode == "redis":  # a city deployment with several app servers (docs/deploy.md)
        try:  # imported here: the redis client is an optional dependency, needed only in this mode
            from huey import RedisHuey
            huey = RedisHuey(os.environ.get("REDIS_QUEUE", "jobs"), url=os.environ.get("REDIS_URL", DEFAULT_REDIS))
        except ImportError as exc:
            raise RuntimeError("JOBS_MODE=redis 需要先安装 redis 包：pip install redis") from exc
    elif mode == "immediate":
        huey = MemoryHuey("jobs", immediate=True)
    elif mode == "memory":
        huey = MemoryHuey("jobs")
    else:
        huey = SqlHuey("jobs", database=_huey_url(database_url))
    _queue["task"] = huey.task(name="run_job")(run_job)
    # Hourly: unpaid centralized batches fail after the payment deadline; deadline reminders.
    _queue["deadlines"] = huey.periodic_task(crontab(minute="7"), name="deadline_sweep")(deadline_sweep)
    _queue["huey"] = huey
    return huey


def shared_storage_refusal(base: str) -> str | None:
    """JOBS_MODE=redis: why this process's STORAGE_DIR is not the one the others use (its marker
    file against the token remembered in Redis, storage.shared_marker_refusal), or None."""
    huey = queue()
    conn, key = huey.storage.conn, f"union:{huey.name}:storage-marker"
    try:
        remembered = conn.get(key)
    except Exception as exc:  # noqa: BLE001 — redis' connection errors: the reason, not a traceback
        return f"无法连接 Redis（REDIS_URL={os.environ.get('REDIS_URL', DEFAULT_REDIS)}）：{exc}"

    def remember(token: str) -> str:
        conn.set(key, token, nx=True)
        return conn.get(key).decode()
    return storage.shared_marker_refusal(base, remembered.decode() if remembered else None, remember)


def _huey_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    return url


def queue():
    if _queue["huey"] is None:
        raise RuntimeError("job queue not initialised (create_app does it)")
    return _queue["huey"]


def enqueue(job_id: int) -> None:
    huey = queue()
    if huey.immediate:
        # Run after the caller's transaction has committed its Job row.
        run_job(job_id)
    else:
        _queue["task"](job_id)
