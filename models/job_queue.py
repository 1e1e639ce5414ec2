"""The job queue huey runs (models/jobs.py wires it: `jobs.init_queue`): huey's SQL storage in the
app database (one server), Redis (JOBS_MODE=redis: several app servers and workers), or in memory
(tests). Below models/jobs.py: the task and the hourly sweep are handed in."""

import os

from huey import MemoryHuey, crontab
from huey.contrib.sql_huey import SqlHuey

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
_queue: dict = {"huey": None}


def wire(database_url: str, mode: str, run_job, deadline_sweep):
    """mode: 'sql' (huey tables in the app database), 'redis' (REDIS_URL, REDIS_QUEUE; several app
    servers), 'immediate' (tests), 'memory' (tests that need a job to stay queued)."""
    if mode == "redis":  # a city deployment with several app servers (docs/deploy.md)
        try:  # imported here: the redis client is an optional dependency, needed only in this mode
            from huey import RedisHuey
            huey = RedisHuey(os.environ.get("REDIS_QUEUE", "jobs"), url=os.environ.get("REDIS_URL", DEFAULT_REDIS))
        except ImportError as exc:
            raise RuntimeError("JOBS_MODE=redis 需要先安装 redis 包：pip install -r requirements-redis.txt") from exc
    elif mode == "immediate":
        huey = MemoryHuey("jobs", immediate=True)
    elif mode == "memory":
        huey = MemoryHuey("jobs")
    else:
        huey = SqlHuey("jobs", database=_huey_url(database_url))
    _queue["run"] = run_job
    _queue["task"] = huey.task(name="run_job")(run_job)
    # Hourly: unpaid centralized batches fail after the payment deadline; deadline reminders.
    _queue["deadlines"] = huey.periodic_task(crontab(minute="7"), name="deadline_sweep")(deadline_sweep)
    _queue["huey"] = huey
    return huey


def _huey_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    return url


def queue():
    if _queue["huey"] is None:
        raise RuntimeError("job queue not initialised (create_app does it)")
    return _queue["huey"]


def runs_here() -> bool:
    """Does a job queued now run in this process? Only with the in-memory queues (immediate: at
    once, in the request; memory: the tests' consumer). JOBS_MODE sql and redis run it in a worker
    process (`flask worker`, which `flask serve` starts beside the website, or another server's)."""
    return isinstance(_queue["huey"], MemoryHuey)


def enqueue(job_id: int) -> None:
    huey = queue()
    if huey.immediate:
        # Run after the caller's transaction has committed its Job row.
        _queue["run"](job_id)
    else:
        _queue["task"](job_id)
