"""会员管理 → 同步会员 / 会员比对 (upload the whole roster → background job → classes A–E) and
从其他工会转入会员到本工会 (by Excel). Grassroots unions and 临时工会, for their own roster."""


from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from models import jobs
from models.base import DomainError
from models.jobs import DONE, Job
from models.members import member_sync
from models.members import member_sync_files as files
from models.members.member_transfer_in import transfer_in as transfer_rows
from views.access import (
    access,
    acting_account,
    refuse,
    render_page,
    send_download,
    xlsx_response,
)
from views.paging import paginate
from views.uploads import job_progress, posted_file, result_file, upload_page

bp = Blueprint("member_sync", __name__, url_prefix="/members")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ONLY_GRASSROOTS = "只有基层工会（或临时工会）可以使用此功能"


_xlsx = xlsx_response


def _own_union():
    """The account's union when it may sync its roster, else None."""
    org = current_user.org
    return org if member_sync.can_sync(org) else None


# --- 同步会员 -------------------------------------------------------------------------------------
@bp.route("/sync", methods=["GET", "POST"])
@access("grassroots")
def sync():
    """同步会员: the upload form, its 注意事项 and 历史导入记录."""
    org = _own_union()
    if org is None:
        return refuse(ONLY_GRASSROOTS)
    return upload_page("members/sync.html", lambda data, name: member_sync.submit(data, name, acting_account()),
                       "member_sync.result", "请选择导入文件", "history",
                       page=paginate(member_sync.history(org.id), per_page=10), org=org,
                       label=member_sync.history_label, file_name=member_sync.file_name)


@bp.route("/sync/template")
@access("grassroots")
def template():
    """下载EXCEL文件模板 / 下载会员比对模板."""
    return _xlsx(files.template_workbook(), "会员比对模板.xlsx")


def _compare_job(job):
    """A job of another kind (in scope) is shown on the general 后台任务 page."""
    if job.kind != member_sync.KIND:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return None


@bp.route("/sync/<int:job_id>")
@access(objects={"job_id": Job})
def result(job):
    """同步会员 比对结果: progress while it runs (htmx polls this URL every second; 286 stops
    it once finished), then the counts per class, the downloads and the error rows. The union's
    superiors may look at it too (the job is loaded in the account's scope)."""
    other = _compare_job(job)
    if other is not None:
        return other
    return job_progress(job, "members/sync_result.html", "progress", classes=member_sync.CLASSES,
                        label=member_sync.history_label, file_name=member_sync.file_name)


PEOPLE_TITLES = {"A": "本单位且已录入系统的会员", "B": "无组织直接转入本单位的会员",
                 "C": "已申请从其他单位转入的会员", "D": "不在上传名单内的会员（同步会员：否）"}


@bp.route("/sync/<int:job_id>/<any(A, B, C, D):cls>")
@access(objects={"job_id": Job})
def people(job, cls):
    """The people behind one class count of the result page (A, B, D: memberships this compare
    found, joined or marked 否; C: its transfer requests with 转出单位 and 审核状态)."""
    other = _compare_job(job)
    if other is not None:
        return other
    if job.status != DONE:
        return refuse("同步尚未完成，请稍后再查看", 409)
    query = member_sync.people_query(job, cls)
    page = paginate(query) if query is not None else None
    return render_page("members/people.html", "rows", page=page, transfers=cls == "C",
                       title=f"同步会员 比对结果 {cls} 类：{PEOPLE_TITLES[cls]}",
                       back_url=url_for("member_sync.result", job_id=job.id), back_label="比对结果",
                       area=("同步会员", url_for("member_sync.sync")))


def _refused_download(job, ready: bool, not_ready: str):
    """Why a file of this compare may not be downloaded (None: it may): another kind of job, the
    read-only city account (full ID numbers), or a compare not finished (`ready`)."""
    other = _compare_job(job)
    if other is not None:
        return other
    refusal = jobs.download_refusal(job, current_user)
    if refusal:
        return refuse(refusal)
    if not ready:
        return refuse(not_ready, 409)
    return None


@bp.route("/sync/<int:job_id>/export")
@access(objects={"job_id": Job})
def export(job):
    """导出结果: the B and C rows with the original union, its contact and the live 审核状态."""
    refused = _refused_download(job, job.status == DONE, "同步尚未完成，请稍后再导出结果")
    if refused is not None:
        return refused
    return _xlsx(files.export_workbook(job), f"同步会员结果-{job.created_at:%Y%m%d%H%M%S}.xlsx")


@bp.route("/sync/<int:job_id>/new")
@access(objects={"job_id": Job})
def download_new(job):
    """下载比对结果: the class-E rows in the member-import template (a compare without any: the
    template itself, made now — nothing of it was kept)."""
    refused = _refused_download(job, job.status == DONE, "同步尚未完成，请稍后再下载比对结果")
    if refused is not None:
        return refused
    if not job.result_data.get("file"):
        return _xlsx(files.new_members_workbook([], job.org), job.result_data.get("download_name")
                     or f"会员比对结果（需新增的会员）-{job.id}.xlsx", slug="member-compare-new")
    path, gone = result_file(job, "file")
    if gone:
        return gone
    return send_download(path, job.result_data.get("download_name", path.name), XLSX, slug="member-compare-new")


# --- 从其他工会转入会员到本工会 -------------------------------------------------------------------
@bp.route("/transfer-in", methods=["GET", "POST"])
@access("grassroots")
def transfer_in():
    """从其他工会转入会员到本工会: one row = single transfer, several = batch; the result of
    every row on the same page."""
    org = _own_union()
    if org is None:
        return refuse(ONLY_GRASSROOTS)
    error, outcomes = None, None
    if request.method == "POST":
        try:
            data, _name = posted_file("请选择导入文件")
            outcomes = transfer_rows(data, current_user._get_current_object())
        except DomainError as exc:
            error = exc.message
    return render_page("members/transfer_in.html", "outcome", error=error, outcomes=outcomes, org=org,
                       status=422 if error else 200)


@bp.route("/transfer-in/template")
@access("grassroots")
def transfer_in_template():
    """下载EXCEL文件模板 (从其他工会转入)."""
    return _xlsx(files.transfer_template_workbook(), "从其他工会转入会员模板.xlsx")
