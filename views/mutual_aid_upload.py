"""在职职工互助保障 → 参保批次管理 → the roster → 上传本地参保名单文件 (issue 18 item 4, seed 004):
下载参保名单导入模板, the upload (a background job, models/mutual_aid/roster_import.py), its
progress and result (导入人数, the rejected rows with 错误行号 and 错误原因, 下载错误文件 to fix and
upload again). The batch is loaded in the account's scope (404 outside); only the account that owns
the batch's code may upload, while the roster is 清册待校验 / 清册校验不通过 — the model refuses
anything else in Chinese and changes nothing."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from models.jobs import Job
from models.mutual_aid import roster_import
from models.mutual_aid.batches import AidBatch
from models.mutual_aid.roster_list import VIEWERS  # the roster page's: the unit (an enterprise too), the lookers
from views.access import access, acting_account, get_in_scope, xlsx_response
from views.uploads import job_progress, recent_jobs, upload_page

bp = Blueprint("mutual_aid_upload", __name__, url_prefix="/mutual-aid/batches")
ROSTER = "mutual_aid_roster.roster"  # the roster page (参保清册, views/mutual_aid_roster.py)


def roster_url(batch: AidBatch) -> str:
    """The batch's roster page, for the 返回 links and the imported count."""
    return url_for(ROSTER, batch_id=batch.id)


def _history(batch: AidBatch) -> list:
    return [job for job in recent_jobs(roster_import.KIND, limit=100)
            if job.params_data.get("batch") == batch.id][:10]


@bp.route("/<int:batch_id>/upload", methods=["GET", "POST"])
@access(*VIEWERS, objects={"batch_id": AidBatch})
def upload(batch):
    """上传本地参保名单文件: the form (or why this account may not upload now) and 导入记录."""
    return upload_page("mutual_aid_upload/upload.html",
                       lambda data, name: roster_import.submit(batch, acting_account(), data, name),
                       "mutual_aid_upload.result_page", "请选择导入文件", batch=batch,
                       refusal=roster_import.upload_refusal(batch, current_user), history=_history(batch),
                       roster=roster_url(batch), promised=roster_import.PROMISED_ROWS,
                       columns=roster_import.TEMPLATE_HEADER)


@bp.route("/<int:batch_id>/upload/template")
@access(*VIEWERS, objects={"batch_id": AidBatch})
def template(batch):
    """下载参保名单导入模板."""
    return xlsx_response(roster_import.template_workbook(), "参保名单导入模板.xlsx", "roster-template")


@bp.route("/uploads/<int:job_id>")
@access(*VIEWERS, objects={"job_id": Job})
def result_page(job):
    """The upload's progress (htmx polls this URL every second; 286 once it ended; a meta refresh
    without JavaScript), then its result. The job and its batch are loaded in the account's scope."""
    if job.kind != roster_import.KIND:  # another kind of job: the general 后台任务 page
        return redirect(url_for("jobs.detail", job_id=job.id))
    batch = get_in_scope(AidBatch, job.params_data.get("batch") or 0)
    return job_progress(job, "mutual_aid_upload/result.html", "progress", batch=batch, data=job.result_data,
                        roster=roster_url(batch), can_upload=not roster_import.upload_refusal(batch, current_user))
