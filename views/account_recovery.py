"""账号找回申请: the 申工通账号找回或密码重置申请表 as a form on the login page (no login; the same
answer whether the unit has an account or not; a few a day per address), and the centre's queue
(在职职工互助保障 → 账号找回申请): match the request to an account, 重置密码 (a one-time password
shown once) or 驳回 with the reason; 市总工会 looks — over models/mutual_aid/recovery.py."""

from flask import Blueprint, abort, flash, request, url_for

from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid import recovery
from models.mutual_aid.recovery import AccountRecovery
from models.rules.text import normalize
from views.access import (
    access,
    acting_account,
    client_ip,
    file_response,
    get_in_scope,
    public,
    redirect_to,
    render_page,
)
from views.paging import paginate

bp = Blueprint("account_recovery", __name__, url_prefix="/account-recovery")


@bp.route("/", methods=["GET", "POST"])
@public
def apply():
    """账号找回申请 (without logging in): the fields (* required), the stamped application, 提交申请."""
    values = {name: normalize(request.form.get(name)) for name in recovery.FIELDS}
    error, errors, status = None, {}, 200
    if request.method == "POST":
        upload = request.files.get("file")
        file = (upload.filename or "", upload.read(recovery.MAX_FILE_BYTES + 1)) if upload else None
        try:
            recovery.submit(values, file, client_ip())
        except FieldErrors as exc:
            error, errors, status = exc.message, exc.errors, exc.status
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return redirect_to(url_for("account_recovery.sent"))
    return render_page("account_recovery/apply.html", status=status, values=values, error=error, errors=errors,
                       fields=recovery.FIELDS, required=recovery.REQUIRED,
                       max_mb=recovery.MAX_FILE_BYTES // 1024 // 1024)


@bp.route("/sent")
@public
def sent():
    """The one answer after 提交申请 (whether or not the unit has an account)."""
    return render_page("account_recovery/sent.html")


@bp.route("/review")
@access("centre", "city")
def review():
    """账号找回申请 (the centre's queue): filtered by 状态 and 单位名称 / 统一社会信用代码."""
    f = {"status": normalize(request.args.get("status")), "name": normalize(request.args.get("name"))[:100]}
    return render_page("account_recovery/review.html", "rows", page=paginate(recovery.search(f["status"], f["name"])),
                       f=f, states=recovery.STATES)


def _shown(req: AccountRecovery, **context) -> dict:
    return {"req": req, "candidates": recovery.candidates(req) if req.status == req.PENDING else [],
            "can_decide": acting_account().acts_for_centre and req.status == req.PENDING,
            "log": AuditLog.for_object(req).limit(50), "error": None, "reason": "", **context}


@bp.route("/<int:req_id>")
@access("centre", "city", objects={"req_id": AccountRecovery})
def detail(req):
    """One request: its fields, the application file, the matching accounts, 重置密码 / 驳回."""
    return render_page("account_recovery/detail.html", **_shown(req))


@bp.route("/<int:req_id>/file")
@access("centre", "city", objects={"req_id": AccountRecovery})
def file(req):
    """The stamped application (the centre and the admin only)."""
    if not acting_account().acts_for_centre:
        abort(404)
    path = recovery.file_path(req)
    if not path.exists():
        abort(404)
    ext = req.stored_name.rsplit(".", 1)[-1]
    name = req.file_name if req.file_name.lower().endswith(f".{ext}") else f"{req.file_name}.{ext}"
    return file_response(path.read_bytes(), name, req.content_type, slug=f"account-recovery-{req.id}",
                         inline=request.args.get("inline") == "1")


@bp.route("/<int:req_id>/reset", methods=["POST"])
@access("centre", "city", objects={"req_id": AccountRecovery})  # 市总工会: refused as read-only
def reset(req):
    """重置密码 for the account picked: its one-time password, shown once (never cached)."""
    try:
        account, secret = recovery.reset(req, request.form.get("account"), acting_account())
    except DomainError as exc:
        return render_page("account_recovery/detail.html", status=exc.status, **_shown(req, error=exc.message))
    response = render_page("account_recovery/password.html", account=account, secret=secret,
                           req=get_in_scope(AccountRecovery, req.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:req_id>/reject", methods=["POST"])
@access("centre", "city", objects={"req_id": AccountRecovery})
def reject(req):
    """驳回 with the reason (required)."""
    reason = normalize(request.form.get("reason"))
    try:
        recovery.reject(req, acting_account(), reason)
    except DomainError as exc:
        return render_page("account_recovery/detail.html", status=exc.status,
                           **_shown(req, error=exc.message, reason=reason))
    flash(f"已驳回「{req.unit_name}」的账号找回申请", "success")
    return redirect_to(url_for("account_recovery.detail", req_id=req.id))
