"""Claims and leases of running jobs (models/jobs.py; several workers with JOBS_MODE=redis).

A worker claims a job for one run: `claimed_by` = "host:pid:random", `lease_until` = now +
JOB_LEASE_SECONDS. While the run lasts the claim is held in this process (`held_claim`) and a
thread of the worker renews its lease every quarter lease (`keep`). A job whose lease lapsed, or
whose worker process on this host is gone, goes back to the queue (`requeue_lapsed`) — never one a
live worker runs. Every write of a run (its checkpoints, its 完成 / 失败) holds only WHERE
claimed_by = its claim; a run that lost its claim gets LeaseLost and its transaction rolls back.
The functions take the job model (a workflow model with `claimed_by` and `lease_until`), so this
module stays below models/jobs.py.
"""

import logging
import os
import secrets
import socket
import threading
import zlib
from contextlib import contextmanager
from datetime import timedelta

from models import db, is_postgres
from models.base import DomainError, now
from models.workflow import bulk_transition

log = logging.getLogger(__name__)
HOST = socket.gethostname()[:50]
_held: set = set()  # this process's claims on running jobs
_lock = threading.Lock()


class LeaseLost(Exception):  # noqa: N818 — a state, not a failure of the job
    """This run's claim lapsed and the job went back to the queue (or on to another worker): the
    transaction rolls back and the run stops, leaving the job to its new owner."""


def lease_seconds() -> int:
    """How long a claim holds without renewal (JOB_LEASE_SECONDS, default 60): a killed worker's
    job is resumed by another worker this long after the last renewal at the latest."""
    return max(3, int(os.environ.get("JOB_LEASE_SECONDS", "60")))


def lease_end():
    return now() + timedelta(seconds=lease_seconds())


@contextmanager
def held_claim():
    """A new claim, held by this process (renewed, never taken for a dead one's) while the run
    lasts — from before it is written to the job until the run ends."""
    claim = f"{HOST}:{os.getpid()}:{secrets.token_hex(6)}"
    with _lock:
        _held.add(claim)
    try:
        yield claim
    finally:
        with _lock:
            _held.discard(claim)


def dead_here(claim: str | None) -> bool:
    """The claim's worker ran on this host and its process is gone (killed, crashed)."""
    host, _, rest = (claim or "").partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        with _lock:
            return claim not in _held  # this process, but no run holds it any more
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def end_claimed(model, obj, claim: str, action: str, updates: dict) -> None:
    """The workflow `action` that ends a run (完成 / 失败), only while `claim` holds (else LeaseLost);
    inside the caller's transaction."""
    try:
        bulk_transition(model, [obj], action, updates=updates, where=model.claimed_by == claim)
    except DomainError as exc:
        raise LeaseLost(f"{model.__name__} {obj._pk}: claim {claim} lapsed") from exc


def requeue_lapsed(model, running: str, enqueue) -> list[int]:
    """Put back in the queue (the workflow's "requeue", then `enqueue(id)`) every `running` job
    whose worker is gone: its lease lapsed, or its process on this host no longer exists. A job a
    live worker runs (its lease renewed) is left alone. Returns the jobs re-queued."""
    lapsed = model.lease_until.is_null() | (model.lease_until < now())
    ids = []
    for job in model.select().where(model.status == running).order_by(model.id):
        dead = dead_here(job.claimed_by)
        if not (dead or job.lease_until is None or job.lease_until < now()):
            continue
        still = model.claimed_by == job.claimed_by if job.claimed_by else model.claimed_by.is_null()
        try:  # the same claim, still lapsed (not renewed meanwhile)
            bulk_transition(model, [job], "requeue", reason="工作进程中断，任务从断点继续",
                            updates={"claimed_by": None, "lease_until": None},
                            where=still if dead else still & lapsed)
        except DomainError:
            continue  # renewed, or re-queued by another worker meanwhile
        ids.append(job.id)
    for job_id in ids:
        enqueue(job_id)
    return ids


def keep(stop: threading.Event, model, running: str, enqueue) -> None:
    """The worker's lease keeper (a thread until `stop`): renews this process's claims and
    re-queues the jobs of dead workers, every quarter lease."""
    while not stop.wait(max(1.0, lease_seconds() / 4)):
        try:
            with db.connection_context():
                with _lock:
                    claims = list(_held)
                if claims:
                    model.update(lease_until=lease_end()).where(
                        model.claimed_by.in_(claims) & (model.status == running)).execute()
                requeued = requeue_lapsed(model, running, enqueue)
            if requeued:
                log.warning("已重新排队中断的任务：%s", requeued)
        except Exception:  # noqa: BLE001 — a database hiccup: try again at the next tick
            log.exception("lease keeper")


@contextmanager
def alone(name: str):
    """Yields whether this process may do `name` now, no other worker doing it (the hourly sweep,
    which every worker schedules). PostgreSQL: a session advisory lock, released when the work ends
    or when a killed worker's connection closes; SQLite (one server, one worker): always."""
    if not is_postgres():
        yield True
        return
    key = zlib.crc32(f"union:{name}".encode())
    mine = db.execute_sql("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))
