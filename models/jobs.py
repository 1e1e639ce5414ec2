"""Background jobs: huey for execution, the Job table for progress, checkpoint and result.

A job handler is a function registered with `@job_kind(name, title)` that takes a JobContext.
It works in chunks; each chunk writes its effects AND `ctx.save_progress(...)` in one
transaction, so a job killed halfway resumes from its last checkpoint without duplicating work.
Workers never run one job twice at once: a run writes only while its leased claim holds; a dead
worker's job goes back to the queue (models/job_leases.py).
"""

import gc
import json
import logging
import threading
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import peewee as pw

from models import db, job_leases, job_queue, job_runs, messages, storage
from models.base import BaseModel, DomainError, now
from models.io.bulk import relaxed_commit
from models.job_leases import LeaseLost, lease_end
from models.job_queue import enqueue, queue
from models.storage import UPLOAD_DIRS, stored_file, upload_retention_days
from models.workflow import Workflow, transition

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "排队中", "运行中", "已完成", "失败"
KINDS: dict = {}  # name → (handler, Chinese title)


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
    def resumed_note(self) -> str:
        """How an interrupted import went on (the result's log of runs), or "" for one run."""
        return job_runs.note(self.result_data.get("runs") or [])

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
    """重试: a failed job back in the queue (refused, with the reason, in any other state); only by
    the organisation that started it (or the admin) and while its upload is still there."""
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
    """Staging for imports (spec 05): a file's checked rows in numbered chunks, each committed with its checkpoint."""
    scope_field = None
    job = pw.ForeignKeyField(Job, backref="chunks", on_delete="CASCADE")
    seq = pw.IntegerField()
    data = pw.TextField()  # JSON: the chunk's parsed, checked rows

    class Meta:
        indexes = ((("job", "seq"), True),)


class JobContext:
    def __init__(self, job: Job, claim: str | None = None):
        self.job = job
        self.claim = claim  # run_job's claim; None when a test calls a handler directly
        self.params = job.params_data
        self.checkpoint = json.loads(job.checkpoint or "{}")
        self._resumed_at, self._run = 0, None  # staged imports: chunks staged before this run; its "runs" entry

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

    def staged(self, done: int, remember, unpack=None) -> list:
        """Rows staged before chunk `done` (> 0: resumed); `remember(part)` sees each, `unpack` expands."""
        self._resumed_at = done
        rows = []
        for chunk in (JobChunk.select().where((JobChunk.job == self.job.id) & (JobChunk.seq < done))
                      .order_by(JobChunk.seq)):
            part = json.loads(chunk.data)
            if unpack is not None:
                part = unpack(part)
            remember(part)
            rows.extend(part)
        return rows

    def stage(self, seq: int, part: list, done: int, total: int, staged=None) -> None:
        """Stage chunk `seq` (stored as `staged` if given, else `part`) with its progress and run log."""
        runs, index = job_runs.with_chunk(self.checkpoint, self._run, self.job.attempts, seq, part)
        data = json.dumps(part if staged is None else staged, ensure_ascii=False)
        with db.atomic():  # PostgreSQL: no wait for the disk (a crash loses the chunk and its checkpoint together)
            relaxed_commit()
            JobChunk.insert(job=self.job.id, seq=seq, data=data).execute()
            self.save_progress(done, total, checkpoint={"chunks": seq + 1, "runs": runs})
        self._run = index

    def applied(self, total: int, chunks: int, result: dict) -> None:  # in the apply's transaction
        result["runs"] = job_runs.at_apply(self.checkpoint, self._run, self.job.attempts, self._resumed_at)
        JobChunk.delete().where(JobChunk.job == self.job.id).execute()
        self.save_progress(total, total, checkpoint={"chunks": chunks, "applied": True, "result": result})

    def reset_staged(self) -> None:  # a file found bad while read, an apply failed: start again
        with db.atomic():
            JobChunk.delete().where(JobChunk.job == self.job.id).execute()
            self.save_progress(0, None, checkpoint={})


def run_job(job_id: int) -> None:
    """Run one job to the end (the body of the huey task). Safe to call twice, from any number of
    workers: the claim is a compare-and-set UPDATE … WHERE status = 排队中 that one wins; the run
    writes only while its claim holds (models/job_leases.py)."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None or job.status != QUEUED:
        return
    with job_leases.held_claim() as claim:
        try:
            job = transition(job, "start", updates={"started_at": now(), "attempts": job.attempts + 1,
                                                    "claimed_by": claim, "lease_until": lease_end()})
        except DomainError:
            return  # another worker took it
        try:
            try:
                result = KINDS[job.kind][0](JobContext(job, claim)) or {}
            except LeaseLost:
                raise
            except Exception as exc:  # noqa: BLE001 — a failed job records its reason for the operator
                log.exception("job %s failed", job_id)
                message = exc.message if isinstance(exc, DomainError) else "任务执行出错，请联系管理员"
                _end(job, claim, "fail", {"finished_at": now(), "errors": json.dumps([message], ensure_ascii=False)},
                     f"后台任务「{job.title}」失败：{message}")
                return
            done = Job.get_by_id(job_id)
            _end(done, claim, "finish", {"finished_at": now(), "result": json.dumps(result, ensure_ascii=False),
                                         "progress_done": max(done.progress_done, done.progress_total)},
                 f"后台任务「{job.title}」已完成", result.get("summary", ""))
        except LeaseLost:
            log.warning("job %s: this worker's claim lapsed and another worker resumes the job", job_id)


def _end(job: Job, claim: str, action: str, updates: dict, title: str, body: str = "") -> None:
    """完成 / 失败 and its 消息提醒 in one transaction, only while the claim holds."""
    with db.atomic():
        job_leases.end_claimed(Job, job, claim, action, updates)
        _notify(job, title, body)


def _notify(job: Job, title: str, body: str = "") -> None:
    """消息提醒 to the job's owner."""
    if job.org_id is None:
        return
    messages.post(job.org_id, title, body=body, link=f"/jobs/{job.id}", kind="后台任务",
                  account=job.owner_id)


def sweep_interrupted() -> list[int]:
    """At worker start: jobs left 运行中 by a dead worker go back to 排队中 (job_leases.requeue_lapsed);
    all queued jobs are (re)enqueued. A duplicate enqueue is harmless: run_job's claim lets one win."""
    requeued = job_leases.requeue_lapsed(Job, RUNNING, enqueue)
    queued = [job_id for (job_id,) in Job.select(Job.id).where(Job.status == QUEUED).order_by(Job.id).tuples()
              if job_id not in requeued]
    for job_id in queued:
        enqueue(job_id)
    return sorted(requeued + queued)


RESULT_FILE_KEYS = ("rows_file", "file", "error_file")  # in jobs/ (unmasked IDs); rows before what is built of them


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
    deleted (`purge_uploads`), and files kept for unfinished forms after a day (`storage.purge_kept`).
    One at a time: every worker schedules it, and a second one at once would remind twice."""
    with db.connection_context() if db.is_closed() else nullcontext(), job_leases.alone("deadline_sweep") as mine:
        if not mine:  # another worker is sweeping right now
            return {**dict.fromkeys(HOURLY, 0), "failed": [], "purged": [], "kept_purged": [], "skipped": True}
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
    stop = threading.Event()  # the lease keeper: renews this worker's claims, re-queues dead workers' jobs
    threading.Thread(target=job_leases.keep, args=(stop, Job, RUNNING, enqueue), name="job-leases", daemon=True).start()
    consumer = queue().create_consumer(workers=workers, worker_type="thread", max_delay=2.0)  # idle: ≤ 2 s
    try:
        consumer.run()
    finally:
        stop.set()


# --- queue wiring (models/job_queue.py) -------------------------------------------------------------
def init_queue(database_url: str, mode: str = "sql"):
    """The queue of `mode` (sql | redis | immediate | memory) running run_job and the hourly sweep."""
    return job_queue.wire(database_url, mode, run_job, deadline_sweep)
