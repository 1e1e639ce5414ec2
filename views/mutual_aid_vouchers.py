"""在职职工互助保障 → 互助保障缴费凭证 (the unit: its 缴费信息, 新增缴费信息 with 选择批次, the refund and
the voucher file) and 互助保障缴费凭证审核 (the centre's queue, 核销 / 驳回; read-only for 市总工会 and,
over their subtree, the district / secondary unions) — over models/mutual_aid/voucher_ops.py. Named
互助保障… so they never read like the 会员专享基本保障 line's 缴费凭证管理 in one menu."""

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from models import storage
from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid import voucher_ops
from models.mutual_aid.vouchers import VOUCHER_STATES, AidReceiptSet, AidVoucher
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.fees import yuan
from models.rules.text import bounded_int, normalize
from views.access import (
    access,
    acting_account,
    file_response,
    form_ids,
    redirect_to,
    refuse,
    render_page,
    scoped,
    submitted_between,
)
from views.paging import paginate

bp = Blueprint("mutual_aid_vouchers", __name__, url_prefix="/mutual-aid/vouchers")

UNIT_ROLES = tuple(r for r in AID_UNIT_ROLES if r in ROLES)  # 企业注册's "enterprise" once it exists
NOT_A_UNIT = "只有参保单位（基层工会或注册企业）可以上传缴费凭证"
UPLOADED = (("start", "上传时间（起）"), ("end", "上传时间（止）"))
LOOKERS = ("centre", "city", "district", "secondary")


def _mine_or_looking(voucher: AidVoucher) -> None:
    """A unit sees only its own account's vouchers (404 otherwise, as outside its scope)."""
    if current_user.role in UNIT_ROLES and voucher.code.account_id != current_user.id:
        abort(404)


def _year(account):
    """The receiving account (户名 / 账号 / 开户行) of the year being paid: the newest batch's."""
    batches = list(voucher_ops.payable(account))
    return batches, (batches[-1].year if batches else None)


# --- 互助保障缴费凭证 (the unit) -----------------------------------------------------------------
@bp.route("/")
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_A_UNIT)
def index():
    """缴费信息 of the unit (状态, 驳回原因), the batches waiting for a voucher with their deadline."""
    batches, year = _year(current_user)
    return render_page("mutual_aid_vouchers/index.html", vouchers=list(voucher_ops.of_account(current_user)),
                       batches=batches, year=year, deadline=voucher_ops.deadline)


@bp.route("/new", methods=["GET", "POST"])
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_A_UNIT)
def new():
    """新增缴费信息: 选择批次 → 应缴保费合计 / 退款金额 (计算; htmx on change), payer and refund fields,
    缴费凭证上传 → 保存提交 (each batch 缴费凭证审核中)."""
    account = acting_account()
    source = request.form if request.method == "POST" else request.args
    batches, year = _year(account)
    ids = form_ids("batch", source)
    chosen = [b for b in batches if b.id in ids]
    fields = voucher_ops.read_form(source)
    due = voucher_ops.payment(chosen, fields.paid)
    kept = _kept_upload(account) if request.method == "POST" else None
    error, errors, status = None, {}, 200
    if request.method == "POST" and request.form.get("save") == "1":
        try:
            voucher = voucher_ops.upload(account, ids, request.form, kept.name if kept else "",
                                         kept.data if kept else b"")
        except FieldErrors as exc:
            error, errors, status = exc.message, exc.errors, exc.status
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            if kept:
                kept.path.unlink(missing_ok=True)
            flash(f"缴费凭证已上传：{len(chosen)}个批次，应缴保费合计{yuan(voucher.due)}元"
                  + (f"，退款{yuan(voucher.refund)}元" if voucher.refund else "")
                  + "，审核时间为提交申请后10个工作日内", "success")
            return redirect_to(url_for("mutual_aid_vouchers.detail", voucher_id=voucher.id))
    pane = request.method == "GET" and request.args.get("pane") == "amounts"
    return render_page("mutual_aid_vouchers/new.html", "amounts" if pane else None, status=status, batches=batches,
                       ids=set(ids), due=due, values=fields.values, error=error, errors=errors, kept=kept, year=year,
                       deadline=voucher_ops.deadline, max_mb=voucher_ops.MAX_FILE_BYTES // 1024 // 1024)


def _kept_upload(account) -> storage.Kept | None:
    """The voucher file of this form: the one chosen now (kept under a random token only this
    account opens, so 计算退款金额 without JavaScript or a refused 保存 does not ask for it again) or
    the one an earlier step kept; a new file replaces the kept one."""
    owner = f"aid-voucher-{account.id}"
    earlier = storage.kept_upload(owner, request.form.get("upload", ""),
                                  normalize(request.form.get("upload_name"))[:100])
    upload = request.files.get("voucher")
    data = upload.read(voucher_ops.MAX_FILE_BYTES + 1) if upload else b""
    if not data:
        return earlier
    if earlier:
        earlier.path.unlink(missing_ok=True)
    return storage.keep_upload(owner, data, normalize(upload.filename)[:100])


# --- one voucher (the unit, the centre, the lookers) ---------------------------------------------
def _detail(voucher: AidVoucher, status: int = 200, **context):
    receipts = AidReceiptSet.get_or_none(AidReceiptSet.voucher == voucher.id)
    return render_page("mutual_aid_vouchers/detail.html", status=status, voucher=voucher,
                       batches=voucher_ops.batches_of(voucher), receipts=receipts,
                       log=AuditLog.for_object(voucher).limit(50),
                       mine=voucher.code.account_id == current_user.id,
                       can_decide=current_user.acts_for_centre and voucher.status == voucher.V_REVIEW,
                       **{"error": None, "reason": "", **context})


@bp.route("/<int:voucher_id>")
@access(*UNIT_ROLES, *LOOKERS, objects={"voucher_id": AidVoucher})
def detail(voucher):
    _mine_or_looking(voucher)
    return _detail(voucher)


@bp.route("/<int:voucher_id>/file")
@access(*UNIT_ROLES, *LOOKERS, objects={"voucher_id": AidVoucher})
def file(voucher):
    """The voucher file itself — stored outside static/, served only in scope."""
    _mine_or_looking(voucher)
    path = voucher_ops.file_path(voucher)
    if not path.exists():
        return refuse("缴费凭证文件不存在", 404)
    ext = voucher.stored_name.rsplit(".", 1)[-1]
    name = voucher.file_name if voucher.file_name.lower().endswith(f".{ext}") else f"{voucher.file_name}.{ext}"
    return file_response(path.read_bytes(), name, voucher.content_type, slug=f"aid-voucher-{voucher.id}",
                         inline=request.args.get("inline") == "1")


@bp.route("/<int:voucher_id>/<any(write_off, reject):action>", methods=["POST"])
@access("centre", "city", objects={"voucher_id": AidVoucher})  # 市总工会: refused as read-only
def decide(voucher, action):
    """核销 (each batch 参保成功) / 驳回 with the reason (each batch back to 缴费凭证待上传)."""
    reason = normalize(request.form.get("reason"))[:500]
    try:
        if action == "write_off":
            voucher = voucher_ops.write_off(voucher, acting_account())
        else:
            voucher = voucher_ops.reject(voucher, acting_account(), reason)
    except DomainError as exc:
        return _detail(AidVoucher.get_by_id(voucher.id), status=exc.status, error=exc.message, reason=reason)
    flash(f"缴费凭证「{voucher.file_name}」{voucher.status}", "success")
    return redirect_to(url_for("mutual_aid_vouchers.detail", voucher_id=voucher.id))


# --- 互助保障缴费凭证审核 (the centre; the lookers see their scope) -----------------------------------
@bp.route("/review")
@access(*LOOKERS)
def review():
    """The vouchers, filtered by 状态, 单位, 参保编码, 保障年度 and 上传时间."""
    f = {"status": normalize(request.args.get("status")), "unit": normalize(request.args.get("unit"))[:100],
         "code": normalize(request.args.get("code"))[:20]}
    year = bounded_int(request.args.get("year"), 2000, 2999)
    query = voucher_ops.search(scoped(AidVoucher, current_user), f["status"], f["unit"], f["code"], year)
    query, dates, errors = submitted_between(query, AidVoucher.uploaded_at, request.args, labels=UPLOADED)
    return render_page("mutual_aid_vouchers/review.html", "rows", status=422 if errors else 200,
                       page=paginate(query), f={**f, "year": year or "", **dates}, errors=errors,
                       states=VOUCHER_STATES)
