"""在职职工互助保障 → 信息变更申请 (a unit's own: 一般信息变更 takes effect at once, 单位名称变更 with
stamped proof waits for the centre, 撤回 while it waits) and 信息变更审核 (the centre's queue with
状态 / 单位名称 / 参保编码 filters, 审核通过 / 审核不通过; 市总工会 and a district / secondary union
look at what is in their scope) — over models/mutual_aid/change_ops.py."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors
from models.mutual_aid import change_ops, code_ops, handler_ops
from models.mutual_aid.codes import APPROVED, CHANGE_STATES, GENERAL_CHANGE, NAME_CHANGE, CodeChange
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.text import normalize
from views.access import access, acting_account, client_ip, file_response, int_arg, redirect_to, render_page
from views.paging import paginate

bp = Blueprint("mutual_aid_changes", __name__, url_prefix="/mutual-aid/changes")

UNIT_ROLES = tuple(role for role in AID_UNIT_ROLES if role in ROLES)  # a union's or a registered unit's account
NOT_UNIT = "只有参保单位的账号可以申请信息变更"
VIEWERS = ("centre", "city", "district", "secondary")


def _mine_or_viewer(change: CodeChange) -> None:
    """Within the organisation's scope a unit sees only its own account's changes (404 otherwise)."""
    if not change_ops.sees(current_user, change):
        abort(404)


# --- 信息变更申请 (the unit) ----------------------------------------------------------------------
def _unit_page(status: int = 200, **context):
    code = code_ops.mine(current_user)
    approved = code is not None and code.status == APPROVED
    handler = handler_ops.handler_of(code) if approved else None
    current = change_ops.current_values(code, handler) if approved else {}
    shown = {"values": current, "error": None, "errors": {}, "name_error": None, "name_errors": {}, "new_name": "",
             "notice": None, **context}
    return render_page("mutual_aid_changes/index.html", status=status, code=code, approved=approved,
                       handler=handler, waiting=change_ops.waiting_of(code) if approved else None,
                       history=change_ops.history_of(code) if approved else [], fields=change_ops.GENERAL_FIELDS,
                       max_mb=code_ops.MAX_FILE_BYTES // 1024 // 1024, **shown)


@bp.route("/")
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_UNIT)
def index():
    """信息变更申请: the unit's current information, the two forms and its 变更记录."""
    return _unit_page()


@bp.route("/general", methods=["POST"])
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_UNIT)
def general():
    """一般信息变更 (单位地址, 单位邮箱, 经办人姓名 / 手机 / 邮箱): applied at once; a new 经办人手机 with
    the SMS code sent to it (获取验证码: action=sms), as in 经办人填报."""
    code = code_ops.mine(current_user)
    values = {name: normalize(request.form.get(name)) for name, *_ in change_ops.GENERAL_FIELDS}
    if code is None:
        return _unit_page(409, error="尚无参保编码，请先申请参保编码")
    if request.form.get("action") == "sms":  # 获取验证码 for the new 经办人手机 (the form stays filled)
        try:
            sent = change_ops.send_mobile_code(values["handler_mobile"], client_ip())
        except FieldErrors as exc:
            return _unit_page(exc.status, values=values, error=exc.message, errors=exc.errors)
        return _unit_page(values=values, notice=f"验证码已发送至{sent.masked}，{sent.minutes}分钟内有效")
    try:
        change = change_ops.change_general(code, acting_account(), values, request.form.get("sms_code", ""))
    except FieldErrors as exc:
        return _unit_page(exc.status, values=values, error=exc.message, errors=exc.errors)
    except DomainError as exc:
        return _unit_page(exc.status, values=values, error=exc.message)
    labels = [label for name, label, *_ in change_ops.GENERAL_FIELDS if getattr(change, name)]
    flash(f"信息变更已生效：{'、'.join(labels)}", "success")
    return redirect_to(url_for("mutual_aid_changes.index"))


@bp.route("/name", methods=["POST"])
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_UNIT)
def name():
    """单位名称变更: the new name and the stamped proof, waiting for the centre."""
    code = code_ops.mine(current_user)
    new_name = normalize(request.form.get("unit_name"))
    files = [(f.filename or "", f.read(code_ops.MAX_FILE_BYTES + 1)) for f in request.files.getlist("files")]
    files = [(file_name, data) for file_name, data in files if file_name or data]
    if code is None:
        return _unit_page(409, name_error="尚无参保编码，请先申请参保编码", new_name=new_name)
    try:
        change_ops.request_name_change(code, acting_account(), new_name, files)
    except FieldErrors as exc:
        return _unit_page(exc.status, name_error=exc.message, name_errors=exc.errors, new_name=new_name)
    except DomainError as exc:
        return _unit_page(exc.status, name_error=exc.message, new_name=new_name)
    flash("单位名称变更申请已提交，请等待上海市职工保障互助会审核", "success")
    return redirect_to(url_for("mutual_aid_changes.index"))


@bp.route("/<int:change_id>/withdraw", methods=["POST"])
@access(*UNIT_ROLES, objects={"change_id": CodeChange}, may="operates_mutual_aid", refusal=NOT_UNIT)
def withdraw(change):
    """撤回 a waiting 单位名称变更 (the unit's own)."""
    _mine_or_viewer(change)
    try:
        change_ops.withdraw_change(change, acting_account())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("单位名称变更申请已撤回", "success")
    return redirect_to(url_for("mutual_aid_changes.index"))


# --- 信息变更审核 (the centre; 市总工会, district and secondary unions look) --------------------------
@bp.route("/review")
@access(*VIEWERS)
def review():
    """信息变更审核: the change requests in scope, filtered by 状态, 变更类型, 单位名称 and 参保编码."""
    f = {"status": normalize(request.args.get("status")), "kind": normalize(request.args.get("kind")),
         "name": normalize(request.args.get("name"))[:100], "code": normalize(request.args.get("code"))[:20]}
    query = change_ops.search(change_ops.in_scope(current_user), f["status"], f["name"], f["code"], f["kind"])
    return render_page("mutual_aid_changes/review.html", "rows", page=paginate(query), f=f, states=CHANGE_STATES,
                       kinds=(NAME_CHANGE, GENERAL_CHANGE))


def _shown(change, **context) -> dict:
    code = change.code
    mine = code.account_id == current_user.id
    return {"change": change, "code": code, "mine": mine, "files": change_ops.files_of(change),
            "opens_files": mine or current_user.acts_for_centre,
            "can_decide": current_user.acts_for_centre and change.status == change.WAITING,
            "log": change_ops.log_of(change).limit(50), "error": None, "reason": "", **context}


@bp.route("/<int:change_id>")
@access(*UNIT_ROLES, *VIEWERS, objects={"change_id": CodeChange})
def detail(change):
    """One change request: the new values, the proof, the decision (the centre: 审核通过 / 审核不通过)."""
    _mine_or_viewer(change)
    return render_page("mutual_aid_changes/detail.html", **_shown(change))


@bp.route("/<int:change_id>/file")
@access(*UNIT_ROLES, "centre", "city", objects={"change_id": CodeChange})
def file(change):
    """A proof file (?n=<file id>): only to the unit itself and the centre / admin, else 404."""
    if not (current_user.acts_for_centre or change.code.account_id == current_user.id):
        abort(404)
    if not request.args.get("n"):  # no file named: the request's list of files
        return redirect(url_for("mutual_aid_changes.detail", change_id=change.id, _anchor="change-file-list"))
    row = next((f for f in change_ops.files_of(change) if f.id == int_arg(request.args.get("n"))), None)
    path = change_ops.file_path(row) if row else None
    if path is None or not path.exists():
        abort(404)
    ext = row.stored_name.rsplit(".", 1)[-1]
    shown = row.file_name if row.file_name.lower().endswith(f".{ext}") else f"{row.file_name}.{ext}"
    return file_response(path.read_bytes(), shown, row.content_type, slug=f"aid-change-{change.id}-{row.id}",
                         inline=request.args.get("inline") == "1")


@bp.route("/<int:change_id>/<any(accept, decline):action>", methods=["POST"])
@access("centre", "city", objects={"change_id": CodeChange})  # 市总工会: refused as read-only
def decide(change, action):
    """审核通过 (the new name applies) / 审核不通过 (the reason, required, shown to the unit)."""
    reason = normalize(request.form.get("reason"))
    try:
        change = change_ops.decide_change(change, action == "accept", acting_account(), reason)
    except DomainError as exc:  # shown as it is now (another clerk may have decided it)
        return render_page("mutual_aid_changes/detail.html", status=exc.status,
                           **_shown(CodeChange.get_by_id(change.id), error=exc.message, reason=reason))
    flash(f"单位名称变更申请「{change.unit_name}」{change.status}", "success")
    return redirect_to(url_for("mutual_aid_changes.detail", change_id=change.id))
