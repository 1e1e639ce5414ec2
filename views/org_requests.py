"""组织管理 → 组织审核 (the requests lower levels file; the superior approves or rejects; the
submitter may withdraw — models/orgs/org_requests.py). 组织导入 is views/org_import.py."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from forms.orgs import ReasonForm
from models.audit import AuditLog
from models.orgs import org_requests
from models.orgs.org_requests import OrgRequest
from views.access import (
    access,
    acting_account,
    render_page,
    scoped,
)
from views.paging import paginate

bp = Blueprint("org_requests", __name__, url_prefix="/orgs")


# --- 组织审核 -----------------------------------------------------------------------------------
@bp.route("/requests")
@access()
def index():
    """组织审核: requests of the subtree (to decide) and the account's own (to follow)."""
    status = request.args.get("status", org_requests.PENDING)
    query = scoped(OrgRequest, current_user).order_by(OrgRequest.created_at.desc(), OrgRequest.id.desc())
    if status in org_requests.STATUSES:
        query = query.where(OrgRequest.status == status)
    return render_page("org_requests/requests.html", "rows", page=paginate(query), status_filter=status,
                       statuses=org_requests.STATUSES)


@bp.route("/requests/<int:req_id>")
@access(objects={"req_id": OrgRequest})
def detail(req):
    return render_page("org_requests/request.html", req=req, form=ReasonForm(),
                       can_decide=req.awaits(current_user),
                       can_withdraw=req.status == org_requests.PENDING
                       and req.submitter_org_id == current_user.org_id,
                       log=AuditLog.for_object(req))


@bp.route("/requests/<int:req_id>/<any(approve, reject, withdraw):action>", methods=["POST"])
@access(objects={"req_id": OrgRequest})
def decide(req, action):
    reason = (request.form.get("reason") or "").strip()  # 驳回 without one: the workflow refuses
    req = org_requests.decide(req, action, acting_account(), reason)
    flash(f"已{OrgRequest.WORKFLOW.label(action)}", "success")
    return redirect(url_for("org_requests.detail", req_id=req.id))
