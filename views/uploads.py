"""The web side of every import (a helper module: no blueprint, no routes).

upload page → models (models/io/uploads.py: pre-check, store, queue the job) → the job's page,
which polls its progress fragment every second and gets 286 once the job has ended (htmx stops
polling), or refreshes itself without JavaScript → the result and the error file.

- `posted_file()`: the uploaded bytes and file name, or the page's "choose a file" refusal;
- `upload_page()`: GET the page; POST the file → `submit(data, file_name)` → the job's page, a
  refusal (DomainError) shown on the page with 422;
- `kinds_posted()`: a page of several upload forms, each posting its `kind` (社保状态导入, 建议清册导入);
- `recent_jobs()`: the 导入记录 list of an upload page;
- `job_progress()`: the progress / result page or fragment, 286 when the job has ended;
- `result_file()`: a stored result or error file of a job (410 once removed after the retention).
"""

from flask import abort, request, url_for
from flask_login import current_user

from models.base import DomainError
from models.io import uploads
from models.jobs import Job
from models.storage import stored_file
from views.access import acting_account, is_fragment_request, redirect_to, refuse, render_page, scoped

CHOOSE_FILE = "请选择要上传的文件"
RECENT = 20  # jobs listed under an upload form


def posted_file(missing: str = CHOOSE_FILE) -> tuple[bytes, str]:
    """(bytes, file name) of the form's `file`; DomainError(missing, 422) when none was chosen."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError(missing, 422)
    return upload.read(), upload.filename


def upload_page(template: str, submit, result: str = "jobs.detail", missing: str = CHOOSE_FILE,
                block: str | None = None, **context):
    """An upload form: on POST the file goes to `submit(data, file_name)` (a model function that
    returns the queued Job) and the browser to the job's page (endpoint `result`); a refusal is
    shown on the page as `error` (422)."""
    error = None
    if request.method == "POST":
        try:
            job = submit(*posted_file(missing))
        except DomainError as exc:
            error = exc.message
        else:
            return redirect_to(url_for(result, job_id=job.id))
    return render_page(template, block, error=error, status=422 if error else 200, **context)


def kinds_posted(kinds, submit, missing: str = "请选择要导入的文件"):
    """A POST of one of a page's upload forms (its `kind` field says which; another kind is 400):
    the file goes to `submit(kind, account, data, file_name)`; (the redirect to the queued job's
    page, or None; {kind: the refusal to show under that form})."""
    kind = request.form.get("kind", "")
    if kind not in kinds:
        abort(400)
    try:
        job = submit(kind, acting_account(), *posted_file(missing))
    except DomainError as exc:
        return None, {kind: exc.message}
    return redirect_to(url_for("jobs.detail", job_id=job.id)), {}


def recent_jobs(*kinds: str, limit: int = RECENT) -> list:
    """The latest jobs of `kinds` in the account's scope, newest first (an upload page's 导入记录)."""
    return list(scoped(Job, current_user).where(Job.kind.in_(kinds)).order_by(Job.id.desc()).limit(limit))


def file_names(jobs: list) -> dict:
    """{job id: the uploaded file's name}."""
    return {job.id: job.params_data.get("file_name", "") for job in jobs}


def job_progress(job: Job, template: str, block: str, **context):
    """The job's page (or, for htmx's poll, its `block`), `job` and `context` given to the
    template; 286 once the job has ended, so htmx stops polling."""
    response = render_page(template, block, job=job, **context)
    if job.finished and response.status_code == 200 and is_fragment_request():
        response.status_code = 286
    return response


def result_file(job: Job, key: str):
    """(the stored file `key` of the job's result, None), or (None, the answer saying why there
    is none): deleted after the retention (410, in Chinese), never written (404)."""
    name = job.result_data.get(key)
    if name and job.results_removed:
        return None, refuse(job.results_removed, 410)
    path = stored_file("jobs", name) if name else None
    if path is None or not uploads.made(job, key, path):  # made now if the job kept only its makings
        removed = Job.get_by_id(job.id).results_removed if name else ""  # purged while it was made
        if removed:
            return None, refuse(removed, 410)
        abort(404)
    return path, None
