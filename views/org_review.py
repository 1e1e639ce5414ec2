"""组织管理 → 组织审核 (the requests lower levels file; the superior approves or rejects). Routes
of the `orgs` blueprint; 组织导入 is views/org_import.py."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from forms.orgs import ReasonForm
from models import messages
from models.audit import AuditLog
from models.base import DomainError
from models.orgs import org_requests as requests_
from models.orgs.org_requests import OrgRequest
from views.access import (
    access,
    render_page,
    scoped,
)
from views.orgs import bp
from views.paging import paginate


# --- 组织审核 -----------------------------------------------------------------------------------
@bp.route("/requests")
@access()
def requests():
    """组织审核: requests of the subtree (to decide) and the account's own (to follow)."""
    status = request.args.get("status", requests_.PENDING)
    query = scoped(OrgRequest, current_user).order_by(OrgRequest.created_at.desc(), OrgRequest.id.desc())
    if status in (requests_.PENDING, requests_.APPROVED, requests_.REJECTED, requests_.WITHDRAWN):
        query = query.where(OrgRequest.status == status)
    return render_page("orgs/requests.html", "rows", page=paginate(query), status_filter=status)


@bp.route("/requests/<int:req_id>")
@access(objects={"req_id": OrgRequest})
def request_detail(req):
    return render_page("orgs/request.html", req=req, form=ReasonForm(),
                       can_decide=req.status == requests_.PENDING and req.can_decide(current_user),
                       can_withdraw=req.status == requests_.PENDING
                       and req.submitter_org_id == current_user.org_id,
                       log=AuditLog.for_object(req))


@bp.route("/requests/<int:req_id>/<any(approve, reject, withdraw):action>", methods=["POST"])
@access(objects={"req_id": OrgRequest})
def decide(req, action):
    reason = (request.form.get("reason") or "").strip()  # 驳回 without one: the workflow refuses
    try:
        req = requests_.decide(req, action, current_user._get_current_object(), reason)
    except IntegrityError:
        raise DomainError("组织名称、统一社会信用代码或工会编号已被其他组织使用，不能通过；"
                          "请驳回并说明原因", 409) from None
    label = OrgRequest.WORKFLOW.label(action)
    if action != "withdraw":
        outcome = "通过" if action == "approve" else "被驳回"
        messages.post(req.submitter_org_id, f"您的{req.kind}申请「{req.name}」已{outcome}",
                      body=reason, kind="组织审核", link=url_for("orgs.request_detail", req_id=req.id))
    flash(f"已{label}", "success")
    return redirect(url_for("orgs.request_detail", req_id=req.id))
