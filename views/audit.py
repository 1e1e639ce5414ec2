"""操作日志: the admin search page (and its Excel export as a background job)."""

from datetime import datetime

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user

from models.audit import AuditLog, object_label, object_names
from models.base import until_end_of
from models.jobs import Job
from models.rules.text import bounded_int
from views.access import access, render_page
from views.menu import may_open
from views.paging import paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")
FILTERS = ("account", "object_type", "object_id", "action", "start", "end")
# The detail page of each kind of object in the log (its URL id is the route's declared object).
DETAIL_PAGES = {
    "Organization": "orgs.detail", "OrgRequest": "orgs.request_detail", "Membership": "members.detail",
    "TransferRequest": "member_review.transfer_detail", "Job": "jobs.detail", "CardBatch": "cards.batch_detail",
    "ProtectionYear": "plans.year_detail", "Submission": "card_enroll.submission", "DistrictBatch": "batches.detail",
    "PaymentVoucher": "batches.voucher",
}


def detail_url(object_type: str, object_id, account) -> str | None:
    """The object's detail page, when there is one and the account may open it."""
    endpoint = DETAIL_PAGES.get(object_type)
    if object_id is None or endpoint is None or not may_open(account, endpoint):
        return None
    rule = current_app.view_functions[endpoint]._access
    arg = next(name for name, model in rule.objects.items() if model.__name__ == object_type)
    return url_for(endpoint, **{arg: object_id})


def filtered(args):
    """AuditLog query for the search filters; returns (query, errors)."""
    query = AuditLog.select().order_by(AuditLog.at.desc(), AuditLog.id.desc())
    errors = []
    if args.get("account"):
        query = query.where(AuditLog.account_name == args["account"].strip())
    if args.get("object_type"):
        query = query.where(AuditLog.object_type == args["object_type"].strip())
    if args.get("object_id"):
        object_id = bounded_int(args["object_id"])
        if object_id is None:
            errors.append("对象编号须为数字")
        else:
            query = query.where(AuditLog.object_id == object_id)
    if args.get("action"):
        query = query.where(AuditLog.action.contains(args["action"].strip()))
    for key, label in (("start", "开始日期"), ("end", "结束日期")):
        if args.get(key):
            try:
                day = datetime.strptime(args[key], "%Y-%m-%d")
            except ValueError:
                errors.append(f"{label}格式应为 年-月-日，如 2026-01-31")
                continue
            query = query.where(AuditLog.at >= day) if key == "start" else \
                query.where(until_end_of(day.date(), AuditLog.at))
    return query, errors


@bp.route("/")
@access("admin")
def search():
    query, errors = filtered(request.args)
    page = paginate(query, per_page=50)
    types = [r.object_type for r in AuditLog.select(AuditLog.object_type).distinct()
             .order_by(AuditLog.object_type)]
    names = object_names(page.items)
    links = {key: detail_url(*key, current_user) for key in names}
    return render_page("audit/search.html", "results", page=page, errors=errors, args=request.args,
                       types=types, object_label=object_label, names=names, links=links)


@bp.route("/export", methods=["POST"])
@access("admin")
def export():
    params = {k: request.form.get(k, "") for k in FILTERS}
    job = Job.submit("audit_export", params, account=current_user._get_current_object())
    return redirect(url_for("jobs.detail", job_id=job.id))
