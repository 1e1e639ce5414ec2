"""会员信息 → 批量导入 (下载模板 / 导入会员 / 查看导入会员结果 / 历史导入记录) and 组织机构代码导入会员.

Upload → background job (models/members/member_import.py) → the result page, which polls its progress
fragment every second (answer 286 when finished) or refreshes itself without JavaScript.
"""

from pathlib import PurePath

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN

from models import jobs
from models.base import DomainError
from models.io import uploads
from models.jobs import DONE, Job
from models.members import member_import
from models.members.people import CATEGORIES, ENTERPRISE, FLEXIBLE, FLEXIBLE_KINDS
from models.orgs.organizations import Enterprise, Organization
from views.access import (
    access,
    int_arg,
    redirect_to,
    refuse,
    render_page,
    scoped,
    send_download,
    xlsx_response,
)
from views.paging import paginate
from views.uploads import job_progress, posted_file, result_file

bp = Blueprint("member_import", __name__, url_prefix="/members")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HISTORY_KINDS = (member_import.KIND, "member_compare")


def _refusal():
    reason = member_import.import_refusal(current_user.org)
    return refuse(reason, 403) if reason else None


@bp.route("/import", methods=["GET", "POST"])
@access()
def upload():
    """导入会员: choose the file and 上传会员数据类型."""
    return _import_page(by_code=False)


@bp.route("/import/by-code", methods=["GET", "POST"])
@access()
def by_code():
    """组织机构代码导入会员: each row names its enterprise by 统一社会信用代码."""
    return _import_page(by_code=True)


def _import_page(by_code: bool):
    refused = _refusal()
    if refused:
        return refused
    org = current_user.org
    enterprises = list(member_import.enterprises_of(org))
    form = {"category": request.form.get("category", ""), "kind": request.form.get("kind", ""),
            "enterprise": request.form.get("enterprise", "")}
    errors = {}
    if request.method == "POST":
        data, name = _read_upload(errors)
        enterprise = None
        if not by_code:
            enterprise = _check_category(form, org, errors)
        if not errors:
            job = member_import.submit(current_user._get_current_object(), data, name,
                                  category=form["category"], category_detail=form["kind"],
                                  enterprise=enterprise, by_code=by_code)
            return redirect_to(url_for("member_import.result", job_id=job.id))
    return render_page("members/import.html", by_code=by_code, org=org, enterprises=enterprises,
                       form=form, errors=errors, categories=CATEGORIES, flexible_kinds=FLEXIBLE_KINDS,
                       max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
                       status=422 if errors else 200)


def _read_upload(errors: dict):
    """The uploaded bytes and file name; refusals that cost nothing to detect go to `errors`."""
    try:
        data, name = posted_file()
    except DomainError as exc:
        errors["file"] = exc.message
        return b"", ""
    name = PurePath(name).name
    try:
        uploads.check_name(data, name)
    except DomainError as exc:
        errors["file"] = exc.message
    return data, name


def _check_category(form: dict, org: Organization, errors: dict):
    """上传会员数据类型: 灵活就业 needs its sub-category; 关联企业类 one of the union's enterprises."""
    category = form["category"]
    if category not in CATEGORIES:
        errors["category"] = "请选择上传会员数据类型"
    elif category == FLEXIBLE and form["kind"] not in FLEXIBLE_KINDS:
        errors["kind"] = "请选择灵活就业类别"
    elif category == ENTERPRISE:
        enterprise = Enterprise.get_or_none(Enterprise.id == int_arg(form["enterprise"]))
        if enterprise is None or enterprise.org_id != org.id:
            errors["enterprise"] = "请选择本工会覆盖的企业（只能单选）"
        return enterprise
    return None


@bp.route("/import/template")
@access()
def template():
    """下载模板 (批量导入)."""
    return _template(by_code=False, name="会员导入模板.xlsx")


@bp.route("/import/by-code/template")
@access()
def by_code_template():
    """下载模板 (组织机构代码导入会员): the tenth column 组织机构代码."""
    return _template(by_code=True, name="组织机构代码导入会员模板.xlsx")


def _template(by_code: bool, name: str):
    refused = _refusal()
    if refused:
        return refused
    return xlsx_response(member_import.template_workbook(current_user.org, by_code=by_code), name,
                         slug="member-import-template")


@bp.route("/import/history")
@access()
def history():
    """历史导入记录: every 批量导入 and 会员比对 of the union (of the subtree for superiors)."""
    query = (scoped(Job, current_user).select(Job, Organization)
             .join(Organization, on=(Job.org == Organization.id), join_type=JOIN.LEFT_OUTER)
             .where(Job.kind.in_(HISTORY_KINDS)).order_by(Job.id.desc()))
    page = paginate(query)
    rows = [_history_row(job) for job in page.items]
    return render_page("members/import_history.html", "rows", page=page, rows=rows,
                       show_org=current_user.sees_many_unions,
                       can_import=member_import.import_refusal(current_user.org) is None)


def _history_row(job: Job) -> dict:
    params = job.params_data
    result = job.result_data
    if job.kind == member_import.KIND:
        kind = "组织机构代码导入会员" if params.get("by_code") else "批量导入会员"
        link = url_for("member_import.result", job_id=job.id)
        counts = ""
        if job.status == DONE:
            counts = (f"新增{result.get('added', 0)}人，更新{result.get('updated', 0)}人，"
                      f"未变化{result.get('unchanged', 0)}人，未导入{result.get('failed', 0)}行")
    else:  # 会员比对 / 同步会员 (views/member_sync.py)
        kind = job.title
        link = _url("member_sync.result", job.id) or url_for("jobs.detail", job_id=job.id)
        counts = result.get("summary", "")
    download = None
    if job.kind != member_import.KIND and job.status == DONE:
        download = _url("member_sync.export", job.id)
    return {"job": job, "file_name": params.get("file_name", ""), "kind": kind, "link": link,
            "counts": counts,
            "category": member_import.category_label(params) if job.kind == member_import.KIND else "",
            "download": download}


def _url(endpoint: str, job_id: int) -> str | None:
    """The URL of another area's job page, if that area is installed."""
    return url_for(endpoint, job_id=job_id) if endpoint in current_app.view_functions else None


@bp.route("/import/<int:job_id>")
@access(objects={"job_id": Job})
def result(job):
    """查看导入会员结果: progress while it runs, then 新增 / 更新 / 未变化 / 未导入 and the errors."""
    if job.kind != member_import.KIND:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return render_page("members/import_result.html", "progress", job=job, **_result_context(job))


@bp.route("/import/<int:job_id>/progress")
@access(objects={"job_id": Job})
def result_progress(job):
    """The progress fragment; 286 once finished, so htmx stops polling."""
    if job.kind != member_import.KIND:
        return redirect(url_for("jobs.progress", job_id=job.id))
    return job_progress(job, "members/import_result.html", "progress", **_result_context(job))


PEOPLE_TITLES = {"added": "新增的会员", "unchanged": "未变化的会员"}


@bp.route("/import/<int:job_id>/<any(added, unchanged):which>")
@access(objects={"job_id": Job})
def people(job, which):
    """The people behind 新增 N 人 / 未变化 N 人 of 查看导入会员结果."""
    if job.kind != member_import.KIND:
        return redirect(url_for("jobs.detail", job_id=job.id))
    if job.status != DONE:
        return refuse("导入尚未完成，请稍后再查看", 409)
    ids = job.result_data.get("people", {}).get(which)
    page = paginate(member_import.people_query(job.org_id, ids)) if ids is not None else None
    by_code = bool(job.params_data.get("by_code"))
    return render_page("members/people.html", "rows", page=page, transfers=False,
                       title=f"查看导入会员结果：{PEOPLE_TITLES[which]}",
                       back_url=url_for("member_import.result", job_id=job.id), back_label="查看导入会员结果",
                       area=("组织机构代码导入会员", url_for("member_import.by_code")) if by_code
                       else ("批量导入", url_for("member_import.upload")))


@bp.route("/import/<int:job_id>/errors")
@access(objects={"job_id": Job})
def errors(job):
    """下载错误数据: the rejected rows with 错误原因, to fix and upload again."""
    if job.kind != member_import.KIND:
        return redirect(url_for("jobs.errors", job_id=job.id))
    refusal = jobs.download_refusal(job, current_user)
    if refusal:
        return refuse(refusal)
    path, gone = result_file(job, "error_file")
    if gone:
        return gone
    return send_download(path, job.result_data.get("error_download_name") or path.name, XLSX,
                         slug="member-import-errors")


def _result_context(job: Job) -> dict:
    params = job.params_data
    return {"params": params, "data": job.result_data,
            "by_code": bool(params.get("by_code")), "category": member_import.category_label(params),
            "shown": member_import.SHOWN, "can_import": member_import.import_refusal(current_user.org) is None}
