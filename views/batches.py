"""参保批次管理 (district; the centre sees every district's) and 缴费凭证管理 (spec 60): the batch
list and detail, the district notice (下载集中参保告知书), the centre's 确认 / 退回 / 参保失败, and the
vouchers: 上传缴费凭证 (pick batches, the amounts, the file) and the centre's 核销 / 驳回.
"""


from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user

from forms.review import ReasonForm
from models import storage
from models.audit import AuditLog
from models.base import DomainError
from models.enroll.enrollment import Submission
from models.review import batch_notice, batches
from models.review.batches import DistrictBatch
from models.review.vouchers import (
    MAX_VOUCHER_BYTES,
    VOUCHER_STATES,
    PaymentVoucher,
    VoucherItem,
    amounts,
    confirm_voucher,
    payable,
    reject_voucher,
    upload_voucher,
    voucher_batches,
)
from models.review.vouchers import search as voucher_search
from models.rules.fees import yuan
from models.rules.text import normalize
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

bp = Blueprint("batches", __name__, url_prefix="/batches")
CONFIRMED = (("start", "确认时间（起）"), ("end", "确认时间（止）"))
UPLOADED = (("start", "上传时间（起）"), ("end", "上传时间（止）"))


@bp.route("/")
@access("district", "centre", "city")
def index():
    """参保批次管理: 批次编号, 参保人数, 提交时间, 最后更新时间, 状态, 凭证上传时间, 职保中心反馈时间,
    职保中心核销时间."""
    is_district = current_user.is_district_union
    number = normalize(request.args.get("number")).upper()
    status = normalize(request.args.get("status"))
    district = normalize(request.args.get("district"))
    query = batches.search(scoped(DistrictBatch, current_user), number, status, "" if is_district else district)
    query, dates, errors = submitted_between(query, DistrictBatch.submitted_at, request.args, labels=CONFIRMED)
    latest = batches.latest_central(current_user.org_id) if is_district else None
    page = paginate(query)
    if not is_district:  # the 区局（产业）工会 column
        batches.with_districts(page.items)
    return render_page("batches/index.html", "rows", page=page, f={
        "number": number, "status": status, "district": district, **dates}, errors=errors,
        states=batches.BATCH_STATES, latest=latest, yuan=yuan,
        has_stats="enroll_stats.district_excel" in current_app.view_functions,
        has_monitor="enroll_stats.monitor" in current_app.view_functions,
        status=422 if errors else 200)


@bp.route("/<int:batch_id>")
@access("district", "centre", "city", objects={"batch_id": DistrictBatch})
def detail(batch):
    """批次详情: the grassroots submissions it holds, the counts per type and the 操作日志."""
    subs = paginate(batches.batch_submissions(batch).order_by(Submission.id), per_page=50)
    voucher = (PaymentVoucher.select().join(VoucherItem).where(VoucherItem.batch == batch.id)
               .order_by(PaymentVoucher.id.desc()).first())
    return render_page("batches/detail.html", batch=batch, subs=subs, types=batches.counts_by_type(batch),
                       log=AuditLog.for_object(batch).limit(50), yuan=yuan,
                       voucher=voucher, just_submitted=request.args.get("submitted") == "1")


@bp.route("/<int:batch_id>/notice")
@access("district", "centre", "city", objects={"batch_id": DistrictBatch})
def notice(batch):
    """下载集中参保告知书 (the district notice, PDF)."""
    if batch.kind != batches.CENTRAL_KIND:
        return refuse("即时参保批次没有集中参保告知书", 409)
    return file_response(batch_notice.district_notice(batch), f"{batch.year.year}年度集中参保告知书-{batch.number}.pdf",
                         "application/pdf", slug=f"notice-{batch.number}")


@bp.route("/<int:batch_id>/accept", methods=["POST"])
@access("centre", objects={"batch_id": DistrictBatch})
def accept(batch):
    """职保中心确认 (→ 缴费凭证待上传; the payment detail e-mailed to the handler) — asked first."""
    if request.form.get("confirmed") != "1":
        return _ask(batch, "accept", batch=batch, title="确认参保批次",
                    target=url_for("batches.accept", batch_id=batch.id),
                    back=url_for("batches.detail", batch_id=batch.id))
    return _act(lambda: batches.accept(batch, acting_account()),
                f"已确认参保批次 {batch.number}，集中参保缴费明细已发送至经办人邮箱",
                url_for("batches.detail", batch_id=batch.id))


def _ask(obj, action: str, **ctx):
    """The confirmation page of a centre decision with money at stake (确认, 确认核销): it re-posts
    with confirmed=1; works without JavaScript. Refused at once when the state no longer allows it."""
    wf = type(obj).WORKFLOW
    refused = wf.refusal(getattr(obj, wf.field), action)
    if refused:
        return refuse(refused, 409)
    return render_page("batches/confirm.html", action=action, yuan=yuan, **ctx)


def _act(operation, done: str, back: str):
    """A centre decision without a reason: done → flash and back; refused → the Chinese reason."""
    try:
        operation()
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash(done, "success")
    return redirect_to(back)


def _with_reason(template: str, do, done: str, **ctx):
    form = ReasonForm()
    if request.method == "POST" and form.validate():
        try:
            do(form.reason.data)
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        flash(done, "success")
        return None
    return render_page(template, "form", status=422 if form.errors else 200, form=form, **ctx)


@bp.route("/<int:batch_id>/reject", methods=["GET", "POST"])
@access("centre", objects={"batch_id": DistrictBatch})
def reject(batch):
    """职保中心退回 with a reason (the submissions go back to the district's 待提交参保列表)."""
    page = _with_reason("batches/reason.html", lambda r: batches.reject(batch, acting_account(), r),
                        f"已退回参保批次 {batch.number}", batch=batch, action="reject", title="退回参保批次")
    return page or redirect_to(url_for("batches.detail", batch_id=batch.id))


@bp.route("/<int:batch_id>/fail", methods=["GET", "POST"])
@access("centre", objects={"batch_id": DistrictBatch})
def fail(batch):
    """参保失败 (an instant batch not paid; centralized ones fail by the deadline sweep)."""
    if batch.kind == batches.CENTRAL_KIND:
        return refuse("集中参保批次在缴费截止后由系统自动标记为失败", 409)
    page = _with_reason("batches/reason.html", lambda r: batches.fail(batch, acting_account(), r),
                        f"参保批次 {batch.number} 已标记为参保失败", batch=batch, action="fail", title="标记参保失败")
    return page or redirect_to(url_for("batches.detail", batch_id=batch.id))


# --- 缴费凭证管理 --------------------------------------------------------------------------------
@bp.route("/vouchers")
@access("district", "centre", "city")
def vouchers():
    """缴费凭证管理: 文件名称, 上传时间 filters; 返回 / 上传缴费凭证."""
    name = normalize(request.args.get("name"))
    status = normalize(request.args.get("status"))
    query, dates, errors = submitted_between(voucher_search(scoped(PaymentVoucher, current_user), name, status),
                                             PaymentVoucher.uploaded_at, request.args, labels=UPLOADED)
    return render_page("batches/vouchers.html", "rows", page=paginate(query), f={"name": name, "status": status,
                       **dates}, errors=errors, yuan=yuan,
                       states=VOUCHER_STATES, status=422 if errors else 200)


@bp.route("/vouchers/new", methods=["GET", "POST"])
@access("district", may="is_district_union", refusal="只有区局（产业）工会可以上传缴费凭证")
def voucher_new():
    """新增缴费凭证: ④ 选择批次 → 已选中批次金额明细 → ⑤ 上传附件, 文件名称 → ⑥ 保存提交至职保中心."""
    district = current_user.org
    source = request.form if request.method == "POST" else request.args
    ids = form_ids("batch", source)
    open_batches = list(payable(district))
    chosen = [b for b in open_batches if b.id in ids]
    error, status = None, 200
    file_name = normalize(source.get("file_name"))
    kept = _kept_upload(district) if request.method == "POST" else None
    if request.method == "POST" and request.form.get("save") == "1":
        try:
            voucher = upload_voucher(district, ids, file_name, kept.data if kept else b"", acting_account())
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            if kept:
                kept.path.unlink(missing_ok=True)
            flash(f"缴费凭证已提交至职保中心：{len(chosen)}个批次，应缴{yuan(voucher.due)}元", "success")
            return redirect_to(url_for("batches.voucher", voucher_id=voucher.id))
    return render_page("batches/voucher_new.html", "amounts" if request.method == "GET" and request.args.get("pane")
                       else None, status=status, batches=open_batches, chosen=chosen, ids=set(ids),
                       amounts=amounts(chosen), error=error, file_name=file_name, yuan=yuan,
                       max_mb=MAX_VOUCHER_BYTES // 1024 // 1024, kept=kept)


def _kept_upload(district) -> storage.Kept | None:
    """The voucher file of this form: the one chosen now (kept under a random token, so that
    计算已选中批次金额 without JavaScript or a refused 保存 does not ask for it again), or the one an
    earlier step of the same form kept (its token opens only this district's file). A new file
    replaces the kept one: that is deleted, so re-posting the form never piles files up."""
    owner = f"district{district.id}"
    earlier = storage.kept_upload(owner, request.form.get("upload", ""),
                                  normalize(request.form.get("upload_name"))[:100])
    upload = request.files.get("voucher")
    data = upload.read(MAX_VOUCHER_BYTES + 1) if upload else b""
    if not data:
        return earlier
    if earlier:
        earlier.path.unlink(missing_ok=True)
    return storage.keep_upload(owner, data, normalize(upload.filename)[:100])


@bp.route("/vouchers/<int:voucher_id>")
@access("district", "centre", "city", objects={"voucher_id": PaymentVoucher})
def voucher(voucher):
    return render_page("batches/voucher.html", voucher=voucher, batches=list(voucher_batches(voucher)),
                       log=AuditLog.for_object(voucher).limit(50), yuan=yuan)


@bp.route("/vouchers/<int:voucher_id>/file")
@access("district", "centre", "city", objects={"voucher_id": PaymentVoucher})
def voucher_file(voucher):
    """The voucher file itself — stored outside static/, served only in scope."""
    path = storage.stored_file("vouchers", voucher.stored_name)
    if not path.exists():
        return refuse("缴费凭证文件不存在", 404)
    ext = voucher.stored_name.rsplit(".", 1)[-1]
    return file_response(path.read_bytes(), f"{voucher.file_name}.{ext}", voucher.content_type,
                         slug=f"voucher-{voucher.id}", inline=request.args.get("inline") == "1")


@bp.route("/vouchers/<int:voucher_id>/confirm", methods=["POST"])
@access("centre", objects={"voucher_id": PaymentVoucher})
def voucher_confirm(voucher):
    """核销: the batches 已完成 — asked first."""
    if request.form.get("confirmed") != "1":
        return _ask(voucher, "confirm", voucher=voucher, batches=list(voucher_batches(voucher)),
                    title="确认核销", target=url_for("batches.voucher_confirm", voucher_id=voucher.id),
                    back=url_for("batches.voucher", voucher_id=voucher.id))
    return _act(lambda: confirm_voucher(voucher, acting_account()), f"已核销缴费凭证「{voucher.file_name}」",
                url_for("batches.voucher", voucher_id=voucher.id))


@bp.route("/vouchers/<int:voucher_id>/reject", methods=["GET", "POST"])
@access("centre", objects={"voucher_id": PaymentVoucher})
def voucher_reject(voucher):
    page = _with_reason("batches/reason.html", lambda r: reject_voucher(voucher, acting_account(), r),
                        f"已驳回缴费凭证「{voucher.file_name}」", voucher=voucher, action="voucher_reject",
                        title="驳回缴费凭证")
    return page or redirect_to(url_for("batches.voucher", voucher_id=voucher.id))


@bp.route("/incoming")
@access("centre")
def incoming():
    """The centre's incoming batches (参保审核中)."""
    return redirect(url_for("batches.index", status=batches.CHECKING))
