"""The helpers every test module shares: a page's HTML (`soup`), a file upload (`post_file`,
`upload_job`, `job_of`), the SQL statements a block runs (`queries`, `statements`) and a race of
threads (`race`)."""

import io
import threading
import time
from contextlib import contextmanager

from bs4 import BeautifulSoup
from openpyxl import Workbook

from models import db
from models.base import DomainError
from models.jobs import Job


def soup(response) -> BeautifulSoup:
    """The response's page, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def post_file(client, url: str, data: bytes, name: str, field: str = "file", headers=None, **form):
    """POST one file (as `field`, with any other form fields) as multipart/form-data; the response."""
    return client.post(url, data={field: (io.BytesIO(data), name), **form}, content_type="multipart/form-data",
                       headers=headers or {})


def job_of(response) -> Job:
    """The job a form started: the response redirects to a page whose URL ends with the job's id."""
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return Job.get_by_id(int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]))


def upload_job(client, url: str, data: bytes, name: str, **form) -> Job:
    """Upload a file to an import; the job it started."""
    return job_of(post_file(client, url, data, name, **form))


@contextmanager
def queries():
    """The SQL statements run on this thread inside the block (not on a live server's thread left
    from a browser test): `with queries() as seen: …; assert len(seen) == 1`."""
    database, seen, me = db.obj, [], threading.get_ident()
    run = database.execute_sql
    shadowed = "execute_sql" in vars(database)  # another test may have left its own method on the object

    def spy(sql, params=None, *args, **kwargs):
        if threading.get_ident() == me:
            seen.append(sql)
        return run(sql, params, *args, **kwargs)
    database.execute_sql = spy
    try:
        yield seen
    finally:
        if shadowed:
            database.execute_sql = run
        else:
            del database.execute_sql  # the class's method again (an instance copy would hide later spies)


def statements(fn, verb: str = "") -> int:
    """How many SQL statements `fn()` runs (only those starting with `verb`, e.g. "SELECT", if given)."""
    with queries() as seen:
        fn()
    return sum(1 for sql in seen if sql.lstrip().upper().startswith(verb))


def race(*calls) -> list[str]:
    """Run each call in its own thread with its own connection, all released at once; returns
    "ok" or the Chinese refusal (DomainError) of each (tests that need `committed` data)."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05):
    """predicate()'s first truthy value, asked every `interval` s; AssertionError after `timeout` s
    (tests that watch another process: a worker, a server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


class ProcessDied(BaseException):
    """A worker process ending where it stands (SIGKILL, power cut): a BaseException, so no
    `except Exception` clean-up of the job runs and the job stays 运行中 with its last commit."""


class ImportRuns:
    """Watches a staged import (models/jobs.JobContext) run after run: the file rows each run
    checked (`checker_class.check`), the chunks it staged and the progress it wrote; the run's
    process dies right after committing chunk `dies_after` (counted from 1) the first time."""

    def __init__(self, monkeypatch, checker_class, dies_after: int):
        from models.jobs import JobContext
        self.checked, self.staged, self.progress = [], [], []
        real_check, real_stage, real_progress = checker_class.check, JobContext.stage, JobContext.save_progress
        alive = [True]
        watch = self

        def check(self, rows):
            watch.checked.extend(number for number, _values in rows)
            return real_check(self, rows)

        def stage(self, seq, part, done, total, staged=None):
            real_stage(self, seq, part, done, total, staged)
            watch.staged.append(seq)
            if alive[0] and seq + 1 == dies_after:
                alive[0] = False
                raise ProcessDied(f"the worker died after committing chunk {dies_after}")

        def save_progress(self, done, total=None, checkpoint=None):
            real_progress(self, done, total, checkpoint)
            watch.progress.append(done)

        monkeypatch.setattr(checker_class, "check", check)
        monkeypatch.setattr(JobContext, "stage", stage)
        monkeypatch.setattr(JobContext, "save_progress", save_progress)

    def next_run(self) -> None:
        """Forget what the run before did: what follows is the next run's."""
        self.checked, self.staged, self.progress = [], [], []


def xlsx_sheet(header, rows) -> bytes:
    """An .xlsx upload: the header row, then the rows."""
    book = Workbook()
    book.active.append(header)
    for r in rows:
        book.active.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
