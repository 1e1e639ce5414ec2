"""后台任务: list, progress (htmx polling, meta refresh without JavaScript), result download."""


from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from models import jobs
from models.jobs import FAILED, Job
from views.access import (
    access,
    acting_account,
    refuse,
    render_page,
    scoped,
    send_download,
)
from views.paging import paginate
from views.uploads import job_progress, result_file

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.route("/")
@access()
def index():
    query = scoped(Job, current_user).order_by(Job.id.desc())
    return render_page("jobs/index.html", "rows", page=paginate(query, per_page=15))


@bp.route("/<int:job_id>")
@access(objects={"job_id": Job})
def detail(job):
    return render_page("jobs/detail.html", job=job, can_retry=_can_retry(job))


def _can_retry(job) -> bool:
    """重试 is offered to the organisation that started the job (or the admin) while its upload
    is still there."""
    return (job.status == FAILED and not job.upload_removed
            and jobs.acts_for(job, current_user))


@bp.route("/<int:job_id>/progress")
@access(objects={"job_id": Job})
def progress(job):
    """The progress fragment. Answers 286 once the job is finished: htmx stops polling."""
    return job_progress(job, "jobs/detail.html", "progress", can_retry=_can_retry(job))


@bp.route("/<int:job_id>/retry", methods=["POST"])
@access(objects={"job_id": Job})
def retry(job):
    """重试 (models.jobs.retry says who may and when)."""
    job = jobs.retry(job, acting_account())
    flash("任务已重新排队", "success")
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/<int:job_id>/download")
@access(objects={"job_id": Job})
def download(job):
    """下载结果: the job's result file."""
    return _send(job, "file", "download_name")


@bp.route("/<int:job_id>/errors")
@access(objects={"job_id": Job})
def errors(job):
    """下载错误文件: the rows that failed, with 错误原因, to fix and upload again."""
    return _send(job, "error_file", "error_download_name")


def _send(job, key, name_key):
    refusal = jobs.download_refusal(job, current_user)
    if refusal:
        return refuse(refusal)
    path, gone = result_file(job, key)
    if gone:
        return gone
    slug = job.kind.replace("_", "-") + ("-errors" if key == "error_file" else "")
    return send_download(path, job.result_data.get(name_key, path.name), slug=slug)
