"""在职职工互助保障 → 专用收据 (the unit: per uploaded voucher, 新增专用收据 with 抬头 and 金额, 删除,
提交审核 once the sum equals the premium total) and 专用收据审核 (the centre: 审核通过 / 审核不通过 with
a reason; 市总工会 and the district / secondary unions look) — over models/mutual_aid/receipt_ops.py."""

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.mutual_aid import receipt_ops
from models.mutual_aid.receipt_pdf import receipt_pdf
from models.mutual_aid.vouchers import R_REVIEW, RECEIPT_STATES, AidReceiptSet
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.text import bounded_int, normalize
from views.access import access, acting_account, file_response, redirect_to, refuse, render_page, scoped
from views.paging import paginate

bp = Blueprint("mutual_aid_receipts", __name__, url_prefix="/mutual-aid/receipts")

UNIT_ROLES = tuple(r for r in AID_UNIT_ROLES if r in ROLES)
NOT_A_UNIT = "只有参保单位（基层工会或注册企业）可以填报专用收据"
LOOKERS = ("centre", "city", "district", "secondary")


def _mine_or_looking(receipt_set: AidReceiptSet) -> None:
    if current_user.role in UNIT_ROLES and receipt_set.voucher.code.account_id != current_user.id:
        abort(404)


@bp.route("/")
@access(*UNIT_ROLES, may="operates_mutual_aid", refusal=NOT_A_UNIT)
def index():
    """专用收据: one line per uploaded voucher (应缴纳保费, 状态), 填报 / 查看."""
    return render_page("mutual_aid_receipts/index.html", sets=list(receipt_ops.of_account(current_user)))


def _detail(receipt_set: AidReceiptSet, status: int = 200, **context):
    receipts = receipt_ops.receipts_of(receipt_set)
    mine = receipt_set.voucher.code.account_id == current_user.id
    return render_page("mutual_aid_receipts/detail.html", status=status, rs=receipt_set, receipts=receipts,
                       total=sum(r.amount for r in receipts), mine=mine,
                       can_edit=mine and receipt_set.editable and not current_user.is_read_only,
                       can_decide=current_user.acts_for_centre and receipt_set.status == R_REVIEW,
                       log=AuditLog.for_object(receipt_set).limit(50),
                       **{"error": None, "errors": {}, "values": {"title": "", "amount": ""}, "reason": "", **context})


@bp.route("/<int:receipt_set_id>")
@access(*UNIT_ROLES, *LOOKERS, objects={"receipt_set_id": AidReceiptSet})
def detail(receipt_set):
    _mine_or_looking(receipt_set)
    return _detail(receipt_set)


@bp.route("/<int:receipt_set_id>/pdf")
@access(*UNIT_ROLES, *LOOKERS, objects={"receipt_set_id": AidReceiptSet})
def pdf(receipt_set):
    """电子专用收据 (one page per receipt), once the centre passed them."""
    _mine_or_looking(receipt_set)
    try:
        data = receipt_pdf(receipt_set)
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    return file_response(data, f"专用收据{receipt_set.id}.pdf", "application/pdf",
                         slug=f"aid-receipts-{receipt_set.id}", inline=request.args.get("inline") == "1")


@bp.route("/<int:receipt_set_id>/<any(add, remove, submit):action>", methods=["POST"])
@access(*UNIT_ROLES, objects={"receipt_set_id": AidReceiptSet}, may="operates_mutual_aid", refusal=NOT_A_UNIT)
def change(receipt_set, action):
    """新增专用收据 (抬头, 金额) / 删除 (?receipt=) / 提交审核."""
    _mine_or_looking(receipt_set)
    values = {"title": normalize(request.form.get("title")), "amount": normalize(request.form.get("amount"))}
    try:
        if action == "add":
            receipt_ops.add(receipt_set, acting_account(), values["title"], values["amount"])
            flash(f"已新增专用收据「{values['title']}」", "success")
        elif action == "remove":
            receipt_id = bounded_int(request.form.get("receipt"), 1)
            if receipt_id is None:
                raise DomainError("该专用收据不存在", 404)
            receipt_ops.remove(receipt_set, acting_account(), receipt_id)
            flash("已删除专用收据", "success")
        else:
            receipt_ops.submit(receipt_set, acting_account())
            flash("专用收据已提交审核", "success")
    except FieldErrors as exc:
        return _detail(receipt_set, status=exc.status, error=exc.message, errors=exc.errors, values=values)
    except DomainError as exc:
        return _detail(AidReceiptSet.get_by_id(receipt_set.id), status=exc.status, error=exc.message,
                       values=values if action == "add" else {"title": "", "amount": ""})
    return redirect_to(url_for("mutual_aid_receipts.detail", receipt_set_id=receipt_set.id))


@bp.route("/<int:receipt_set_id>/<any(pass, fail):action>", methods=["POST"])
@access("centre", "city", objects={"receipt_set_id": AidReceiptSet})  # 市总工会: refused as read-only
def decide(receipt_set, action):
    """专用收据审核: 审核通过 / 审核不通过 (the reason, required)."""
    reason = normalize(request.form.get("reason"))[:500]
    try:
        receipt_set = receipt_ops.decide(receipt_set, action == "pass", acting_account(), reason)
    except DomainError as exc:
        return _detail(AidReceiptSet.get_by_id(receipt_set.id), status=exc.status, error=exc.message, reason=reason)
    flash(f"专用收据{receipt_set.status}", "success")
    return redirect_to(url_for("mutual_aid_receipts.detail", receipt_set_id=receipt_set.id))


@bp.route("/review")
@access(*LOOKERS)
def review():
    """专用收据审核: filtered by 状态 (收据审核中 first by default), 单位, 参保编码."""
    f = {"status": normalize(request.args.get("status", R_REVIEW)), "unit": normalize(request.args.get("unit"))[:100],
         "code": normalize(request.args.get("code"))[:20]}
    query = receipt_ops.search(scoped(AidReceiptSet, current_user), f["status"], f["unit"], f["code"])
    return render_page("mutual_aid_receipts/review.html", "rows", page=paginate(query), f=f, states=RECEIPT_STATES)
