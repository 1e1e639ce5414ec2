"""操作日志: the admin search page (and its Excel export as a background job)."""

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user

from models import audit
from models.audit import object_label, object_names
from models.jobs import Job
from views.access import access, acting_account, render_page
from views.menu import may_open
from views.paging import paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")
FILTERS = ("account", "object_type", "object_id", "action", "start", "end")
# The detail page of each kind of object in the log (its URL id is the route's declared object).
DETAIL_PAGES = {
    "Organization": "orgs.detail", "OrgRequest": "org_requests.detail", "Membership": "members.detail",
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


@bp.route("/")
@access("admin")
def search():
    query, errors = audit.search(request.args)
    page = paginate(query, per_page=50)
    types = audit.object_types()
    names = object_names(page.items)
    links = {key: detail_url(*key, current_user) for key in names}
    return render_page("audit/search.html", "results", page=page, errors=errors, args=request.args,
                       types=types, object_label=object_label, names=names, links=links)


@bp.route("/export", methods=["POST"])
@access("admin")
def export():
    params = {k: request.form.get(k, "") for k in FILTERS}
    job = Job.submit("audit_export", params, account=acting_account())
    return redirect(url_for("jobs.detail", job_id=job.id))
