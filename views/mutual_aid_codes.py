"""在职职工互助保障 → 参保编码申请 (a unit's account — a grassroots union or an enterprise of 企业注册:
its application, 申请参保编码 with 获取验证码 and 上传文件, 编辑 and resubmit after 审核不通过) and
参保编码审核 (the centre's queue, 审核通过 / 审核不通过; read-only for 市总工会) — over
models/mutual_aid/code_ops.py."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid import code_ops
from models.mutual_aid.codes import CODE_STATES, REFUSED, InsuranceCode
from models.orgs.accounts import AID_UNIT_ROLES
from models.rules.text import normalize
from views.access import (
    access,
    acting_account,
    client_ip,
    file_response,
    int_arg,
    redirect_to,
    render_page,
    scoped,
)
from views.paging import paginate

bp = Blueprint("mutual_aid_codes", __name__, url_prefix="/mutual-aid/codes")

NOT_AID_UNIT = "只有参保单位账号（基层工会或企业注册的单位）可以申请参保编码"
UNIT_ROLES = AID_UNIT_ROLES


def _shown(code: InsuranceCode, **context) -> dict:
    """What the application's page shows this account."""
    mine = code.account_id == current_user.id
    return {"code": code, "files": code_ops.files_of(code), "units": code_ops.units_of(code), "mine": mine,
            "opens_files": mine or current_user.acts_for_centre, "log": AuditLog.for_object(code).limit(50),
            "can_decide": current_user.acts_for_centre and code.status == code.APPLYING,
            "adds_units": current_user.acts_for_centre and code.status == code.APPROVED,
            "error": None, "reason": "", "number": "", "unit_error": None, "unit_errors": {}, "unit_values": {},
            **context}


def _mine_or_centre(code: InsuranceCode) -> None:
    """A union sees only its own account's application (404 otherwise, as outside its scope)."""
    if not current_user.sees_whole_city and code.account_id != current_user.id:
        abort(404)


# --- 参保编码申请 (the union) ---------------------------------------------------------------------
@bp.route("/")
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_AID_UNIT)
def index():
    """参保编码申请: the account's application (状态, 参保编码, 编辑 after 审核不通过) or 申请参保编码."""
    return render_page("mutual_aid_codes/index.html", code=code_ops.mine(current_user))


def _posted_files(account) -> tuple[list, str | None]:
    """The files of this form: those kept by 上传文件 (less the one 删除 names) and those chosen now,
    each checked by content — (kept files, the refusal of a chosen file)."""
    kept = code_ops.kept_files(account, request.form.getlist("kept"), request.form.getlist("kept_name"))
    gone = request.form.get("remove", "")
    code_ops.forget_kept([k for k in kept if k.token == gone])
    kept = [k for k in kept if k.token != gone]
    chosen = [(f.filename or "", f.read(code_ops.MAX_FILE_BYTES + 1)) for f in request.files.getlist("files")]
    chosen = [(name, data) for name, data in chosen if name or data]
    if not chosen:
        return kept, None
    if len(kept) + len(chosen) > code_ops.MAX_FILES:
        return kept, f"附件最多上传{code_ops.MAX_FILES}个文件"
    try:
        return kept + code_ops.keep_files(account, chosen), None
    except DomainError as exc:
        return kept, exc.message


def _form_page(code, submit):
    """The application form (新 or 编辑): 上传文件 / 删除 keep the files; 提交申请 calls `submit`."""
    account = acting_account()
    values = {name: normalize(request.form.get(name)) for name in code_ops.FIELDS} if request.method == "POST" \
        else {name: getattr(code, name) if code else "" for name in code_ops.FIELDS}
    if request.method == "GET" and code is None and account.is_enterprise_unit:  # what it registered with
        values.update(code_ops.registered_values(account.org))
    kept, error, errors, status, notice = [], None, {}, 200, None
    if request.method == "POST":
        kept, error = _posted_files(account)
        status = 422 if error else 200
        if not error and request.form.get("action") == "sms":  # 获取验证码 (the form comes back as typed)
            try:
                sent = code_ops.send_code(values["phone"], client_ip())
            except DomainError as exc:
                error, errors, status = exc.message, {"phone": exc.message}, exc.status
            else:
                notice = f"验证码已发送至{sent.masked}，{sent.minutes}分钟内有效"
        if not error and request.form.get("action") == "submit":
            try:
                submit(values, [(k.name, k.data) for k in kept], request.form.get("sms_code", ""))
            except FieldErrors as exc:
                error, errors, status = exc.message, exc.errors, exc.status
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                code_ops.forget_kept(kept)
                flash("参保编码申请已提交，审核时间为提交申请后1个工作日", "success")
                return redirect_to(url_for("mutual_aid_codes.index"))
    return render_page("mutual_aid_codes/form.html", status=status, code=code, values=values, kept=kept,
                       error=error, errors=errors, notice=notice, fields=code_ops.FIELDS, required=code_ops.REQUIRED,
                       files=code_ops.files_of(code) if code else [],
                       max_mb=code_ops.MAX_FILE_BYTES // 1024 // 1024)


@bp.route("/new", methods=["GET", "POST"])
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_AID_UNIT)
def apply():
    """申请参保编码: the fields (* required), 上传文件, 提交申请."""
    if code_ops.mine(current_user):
        return redirect(url_for("mutual_aid_codes.index"))
    return _form_page(None, lambda values, files, sms_code: code_ops.apply(acting_account(), values, files,
                                                                           sms_code=sms_code))


@bp.route("/<int:code_id>/edit", methods=["GET", "POST"])
@access(*UNIT_ROLES, objects={"code_id": InsuranceCode}, may="operates_mutual_aid",
        refusal=NOT_AID_UNIT)
def edit(code):
    """编辑 after 审核不通过: the reason, the corrected fields, more files, 提交申请 (back to 申请中)."""
    _mine_or_centre(code)
    if code.status != REFUSED:
        flash(f"参保编码申请{code.status}，不能编辑", "error")
        return redirect_to(url_for("mutual_aid_codes.index"))
    return _form_page(code, lambda values, files, sms_code: code_ops.resubmit(code, acting_account(), values, files,
                                                                              sms_code=sms_code))


# --- 参保编码审核 (the centre; 市总工会 looks) -------------------------------------------------------
@bp.route("/review")
@access("centre", "city")
def review():
    """参保编码审核: the applications, filtered by 状态 and 单位名称."""
    status = normalize(request.args.get("status"))
    name = normalize(request.args.get("name"))[:100]
    query = code_ops.search(scoped(InsuranceCode, current_user), status, name)
    return render_page("mutual_aid_codes/review.html", "rows", page=paginate(query),
                       f={"status": status, "name": name}, states=CODE_STATES)


@bp.route("/<int:code_id>")
@access(*UNIT_ROLES, "centre", "city", objects={"code_id": InsuranceCode})
def detail(code):
    """One application: its fields, files, the decision (the centre: 审核通过 / 审核不通过)."""
    _mine_or_centre(code)
    return render_page("mutual_aid_codes/detail.html", **_shown(code))


@bp.route("/<int:code_id>/file")
@access(*UNIT_ROLES, "centre", "city", objects={"code_id": InsuranceCode})
def file(code):
    """An uploaded file (?n=<file id>): only to the applicant and the centre / admin, else 404."""
    if not (current_user.acts_for_centre or code.account_id == current_user.id):
        abort(404)
    if not request.args.get("n"):  # no file named: the application's list of files
        return redirect(url_for("mutual_aid_codes.detail", code_id=code.id, _anchor="code-file-list"))
    row = next((f for f in code_ops.files_of(code) if f.id == int_arg(request.args.get("n"))), None)
    path = code_ops.file_path(row) if row else None
    if path is None or not path.exists():
        abort(404)
    ext = row.stored_name.rsplit(".", 1)[-1]
    name = row.file_name if row.file_name.lower().endswith(f".{ext}") else f"{row.file_name}.{ext}"
    return file_response(path.read_bytes(), name, row.content_type, slug=f"aid-code-{code.id}-{row.id}",
                         inline=request.args.get("inline") == "1")


@bp.route("/<int:code_id>/<any(approve, refuse):action>", methods=["POST"])
@access("centre", "city", objects={"code_id": InsuranceCode})  # 市总工会: refused as read-only
def decide(code, action):
    """审核通过 (the code typed, or given) / 审核不通过 (the reason, required)."""
    reason = normalize(request.form.get("reason"))
    number = normalize(request.form.get("number"))
    try:
        code = code_ops.decide(code, action == "approve", acting_account(), reason=reason, number=number)
    except DomainError as exc:
        return render_page("mutual_aid_codes/detail.html", status=exc.status,
                           **_shown(code, error=exc.message, reason=reason, number=number))
    flash(f"参保编码申请「{code.unit_name}」{code.status}" + (f"，参保编码：{code.code}" if code.code else ""),
          "success")
    return redirect_to(url_for("mutual_aid_codes.detail", code_id=code.id))


@bp.route("/<int:code_id>/units", methods=["POST"])
@access("centre", "city", objects={"code_id": InsuranceCode})  # 市总工会: refused as read-only
def add_unit(code):
    """集团下属单位 → 添加单位 (the centre): 单位名称 and 统一社会信用代码 of another unit of the group;
    a name or code that already belongs to a code is refused, naming that code."""
    values = {"name": normalize(request.form.get("name")), "uscc": normalize(request.form.get("uscc"))}
    try:
        unit = code_ops.add_unit(code, values["name"], values["uscc"], acting_account())
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, FieldErrors) else {}
        return render_page("mutual_aid_codes/detail.html", status=exc.status,
                           **_shown(code, unit_error=exc.message, unit_errors=errors, unit_values=values))
    flash(f"已将「{unit.name}」添加为参保编码{code.code}的集团下属单位", "success")
    return redirect_to(url_for("mutual_aid_codes.detail", code_id=code.id, _anchor="code-units"))
