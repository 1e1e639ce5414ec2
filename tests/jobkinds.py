"""Job kinds used only by tests, and a worker entry point for the kill-and-resume test:

    python -m tests.jobkinds worker DATABASE_URL [sql|redis]

starts the real job worker (huey on the database, as `flask worker` does, or on Redis: REDIS_URL,
REDIS_QUEUE) with these kinds."""

import os
import sys
import time

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.jobs import job_kind

EFFECT = "TestEffect"


@job_kind("test_chunked", "测试分块任务")
def chunked(ctx):
    """Writes one audit row per item (the 'effect'), `chunk` items per transaction together
    with the checkpoint — the pattern every real import job follows."""
    total, chunk = ctx.params["total"], ctx.params["chunk"]
    delay = ctx.params.get("delay", 0)
    gate = ctx.params.get("gate")  # a file: after the first two chunks, wait until it exists
    start = ctx.checkpoint.get("next", 0)
    for first in range(start, total, chunk):
        while gate and first >= 2 * chunk and not os.path.exists(gate):
            time.sleep(0.05)
        last = min(first + chunk, total)
        with db.atomic():
            for item in range(first, last):
                AuditLog.record("测试效果", object_type=EFFECT, object_id=item)
            ctx.save_progress(last, total, {"next": last})
        time.sleep(delay)
    return {"rows": total}


@job_kind("test_refused", "测试拒绝任务")
def refused(ctx):
    raise DomainError("第 3 行：证件号码校验位错误")


@job_kind("test_crash", "测试出错任务")
def crash(ctx):
    raise ValueError("secret internal detail 310101199001011234")


def effects() -> list[int]:
    return [r.object_id for r in AuditLog.select(AuditLog.object_id)
            .where(AuditLog.object_type == EFFECT).order_by(AuditLog.object_id)]


def main(argv):
    command, url, mode = argv[1], argv[2], (argv[3:4] or ["sql"])[0]
    assert command == "worker"
    from app import create_app
    from models.jobs import run_worker
    app = create_app({"DATABASE_URL": url, "JOBS_MODE": mode, "SECRET_KEY": "test-worker",
                      "LOGIN_CAPTCHA": False})
    with app.app_context():
        run_worker(workers=1)


if __name__ == "__main__":
    main(sys.argv)
