"""保障信息查询 and 给付信息查询 (spec 60 "Centre", issue 8): a person's coverage periods and the
benefits paid, by ID number, within the account's scope (centre, city, admin: city-wide;
district and secondary unions: their subtree; grassroots: their own union); and the centre's
登记给付 form and 给付信息导入 (a background job, all or nothing, error file to fix and upload again).

Both queries are plain GET forms (?id_number=) that htmx swaps in place (block `result`); names
and ID numbers on the result are masked.
"""


from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors, today
from models.enroll import claim_import, claims, coverage
from models.enroll.plans import ProtectionYear
from models.jobs import Job
from models.mutual_aid import premium_ops
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.fees import yuan
from views.access import (
    access,
    acting_account,
    redirect_to,
    render_page,
    scope_org_ids,
    xlsx_response,
)
from views.uploads import file_names, job_progress, recent_jobs, upload_page

bp = Blueprint("coverage", __name__, url_prefix="/coverage")
QUERY_ROLES = ("centre", "city", "district", "secondary", "grassroots")
# 保障信息查询 shows both lines; a unit of the mutual-aid line without a union (企业, once that role
# exists) asks it too — for its own people.
PERIOD_ROLES = QUERY_ROLES + tuple(r for r in AID_UNIT_ROLES if r in ROLES and r not in QUERY_ROLES)


def _asked():
    """(ID number as stored or "", error or None) from ?id_number=."""
    raw = request.args.get("id_number")
    if raw is None or not raw.strip():
        return "", ("请输入证件号码" if raw is not None else None)
    try:
        return coverage.clean_id_number(raw, today()), None
    except DomainError as exc:
        return "", exc.message


def _nothing(org_ids) -> str:
    return coverage.NOTHING if org_ids is None else coverage.NOTHING_IN_SCOPE


@bp.route("/")
@access(*PERIOD_ROLES)
def periods():
    """保障信息查询, both lines. 会员专享基本保障: 保障年度, 单位名称, 参保通道, 参保类型, 保障类型, 起保日期,
    终保日期, 半年/全年, 状态, 批次编号; 在职职工互助保障 (the same person by 证件号码, the batch's unit in
    scope): 保障年度, 参保单位, 参保类型, 保障项目, 保障期间, 免责期, 批次状态."""
    number, error = _asked()
    rows, aid, org_ids = [], [], scope_org_ids(current_user)
    if number:
        rows = coverage.periods(number, org_ids)
        aid = premium_ops.aid_coverage_of(number, org_ids)
    person = rows[0].person if rows else (aid[0]["entry"] if aid else None)
    return render_page("coverage/periods.html", "result", number=number, typed=request.args.get("id_number", ""),
                       error=error, rows=rows, aid=aid, person=person, nothing=_nothing(org_ids), coverage=coverage,
                       status=422 if error else 200)


@bp.route("/claims")
@access(*QUERY_ROLES)
def claims_query():
    """给付信息查询: per protection year its 给付申请材料截止 and the claims (给付日期, 给付类型, 给付金额)."""
    number, error = _asked()
    years, person, org_ids = [], None, scope_org_ids(current_user)
    if number:
        years = claims.by_year(number, org_ids)
        if years:
            person = coverage.person_of(number)
    return render_page("coverage/claims.html", "result", number=number, typed=request.args.get("id_number", ""),
                       error=error, years=years, person=person, nothing=_nothing(org_ids),
                       centre=current_user.acts_for_centre, status=422 if error else 200)


@bp.route("/claims/new", methods=["GET", "POST"])
@access("centre")
def new_claim():
    """登记给付 (the centre)."""
    errors, values = {}, {"id_number": request.args.get("id_number", "")}
    if request.method == "POST":
        values = {field: request.form.get(field, "") for field, _ in claims.FIELDS}
        try:
            claim = claims.record(values, acting_account())
        except FieldErrors as exc:
            errors = exc.errors
        else:
            flash(f"已登记给付：{claim.claim_type} {yuan(claim.amount)}元", "success")
            return redirect_to(url_for("coverage.claims_query", id_number=claim.id_number))
    years = list(ProtectionYear.select().order_by(ProtectionYear.year.desc()))
    return render_page("coverage/claim_form.html", "form", values=values, errors=errors, years=years,
                       types=claims.CLAIM_TYPES, labels=claims.LABELS, status=422 if errors else 200)


@bp.route("/claims/import", methods=["GET", "POST"])
@access("centre")
def import_claims():
    """给付信息导入: 证件号码, 姓名, 保障年度, 给付日期, 给付类型, 给付金额(元), 备注."""
    history = recent_jobs(claims.KIND)
    return upload_page("coverage/import.html",
                       lambda data, name: claim_import.submit_import(acting_account(), data, name),
                       "coverage.import_result", "请选择要导入的给付信息文件", history=history,
                       names=file_names(history), columns=claims.COLUMNS, types=claims.CLAIM_TYPES)


@bp.route("/claims/import/template")
@access("centre")
def import_template():
    return xlsx_response(claim_import.template_workbook(), "给付信息导入模板.xlsx")


@bp.route("/claims/import/<int:job_id>")
@access("centre", objects={"job_id": Job})
def import_result(job):
    """The import's progress, then 登记 N 笔 or every rejected row with its reason."""
    if job.kind != claims.KIND:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return job_progress(job, "coverage/import_result.html", "result", data=job.result_data)
