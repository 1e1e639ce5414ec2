"""在职职工互助保障 → 参保批次管理 → 清册校验 (spec 70, seed 004): the unit's check page of a batch
(清册校验, the result of each rule, 人员确认 of the 清册未能匹配人员, the rule-1 ticks, 上传附件 under a
附件类型, 清册提交 with the 承诺书) — over models/mutual_aid/roster_check.py and attachment_ops.py.
The centre, 市总工会 and the unit's district / secondary union open the same page read-only (the
centre decides the attachments from it: views/mutual_aid_attachments.py)."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError
from models.mutual_aid import attachment_ops, roster_check, years
from models.mutual_aid.batches import ATTACH_FAILED, ATTACH_REVIEW, AidBatch
from models.mutual_aid.checks import BatchAttachment
from models.mutual_aid.roster_list import next_steps
from models.orgs.accounts import AID_UNIT_ROLES, ROLES
from models.rules.mutual_roster import ATTACHMENT_KINDS, OVER_AGE_TICKS
from models.rules.text import normalize
from views.access import access, acting_account, file_response, form_ids, int_arg, redirect_to, render_page
from views.paging import paginate

bp = Blueprint("mutual_aid_check", __name__, url_prefix="/mutual-aid/batches")

UNIT_ROLES = tuple(r for r in AID_UNIT_ROLES if r in ROLES)  # the 企业注册 account joins when it exists
VIEWERS = (*UNIT_ROLES, "centre", "city", "district", "secondary")
NOT_UNIT = "只有参保单位的账号可以办理清册校验"
LETTER = (
    "本单位承诺：",
    "一、本次提交的参保清册人员均为本单位在职职工，所填人员信息真实、准确、完整；",
    "二、清册中保留的在职超龄人员（女性年满55周岁、男性年满60周岁）均为社保尚在缴金或医保享受在职待遇的在职人员；",
    "三、清册未能匹配人员均已由本单位核实确认为本单位在职职工；",
    "四、所上传的附件真实有效，与原件一致；",
    "五、如有不实，本单位愿承担由此产生的一切责任，上海市职工保障互助会有权不予给付。",
)


def _mine(batch: AidBatch) -> bool:
    return batch.code.account_id == current_user.id


def require_visible(batch: AidBatch) -> None:
    """A unit sees only its own account's batches (404 otherwise, as outside its scope); the centre,
    市总工会 and the reviewing unions see what their scope holds (the access decorator's 404)."""
    if not (current_user.sees_whole_city or current_user.is_reviewer or _mine(batch)):
        abort(404)


def check_page(batch: AidBatch, status: int = 200, **context):
    found = roster_check.report(batch)
    mine = _mine(batch) and current_user.operates_mutual_aid
    window = years.window_state(batch.year, batch.kind, batch.code)
    over_age = list(roster_check.people_of(batch, "over_age").limit(200)) if found.over_age else []
    return render_page("mutual_aid_check/check.html", status=status, batch=batch, r=found, mine=mine,
                       window=window, acts=mine and window.open, over_age=over_age, ticks=OVER_AGE_TICKS,
                       files=attachment_ops.files_of(batch), kinds=ATTACHMENT_KINDS,
                       changeable=batch.status in attachment_ops.CHANGEABLE,
                       submittable=batch.status in roster_check.SUBMITTABLE,
                       can_decide=current_user.acts_for_centre and batch.status == ATTACH_REVIEW,
                       log=AuditLog.for_object(batch).limit(50), which=roster_check.WHICH,
                       attach_failed=ATTACH_FAILED, next_steps=next_steps, **{"error": None, "reason": "", **context})


def _act(batch: AidBatch, op, done: str, anchor: str = "result"):
    """Run a unit's operation; its refusal shown on the page (nothing changed), else PRG."""
    try:
        op()
    except DomainError as exc:
        return check_page(batch, status=exc.status, error=exc.message)
    if done:
        flash(done, "success")
    return redirect_to(url_for("mutual_aid_check.check", batch_id=batch.id, _anchor=anchor))


@bp.route("/<int:batch_id>/check")
@access(*VIEWERS, objects={"batch_id": AidBatch})
def check(batch):
    """清册校验: the counts (each opening its people), each rule's outcome, what is left to do."""
    require_visible(batch)
    return check_page(batch)


@bp.route("/<int:batch_id>/check/run", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def run(batch):
    """【清册校验】: the result; a roster with a fault goes to 清册校验不通过."""
    require_visible(batch)
    return _act(batch, lambda: roster_check.run_check(batch, acting_account()), "")


@bp.route("/<int:batch_id>/check/people")
@access(*VIEWERS, objects={"batch_id": AidBatch})
def people(batch):
    """The people behind a count (?which=all / matched / unmatched / retired / over_age …)."""
    require_visible(batch)
    which = request.args.get("which", "all")
    if which not in roster_check.WHICH:
        which = "all"
    return render_page("mutual_aid_check/people.html", "rows", batch=batch, which=which,
                       label=roster_check.WHICH[which], page=paginate(roster_check.people_of(batch, which)))


@bp.route("/<int:batch_id>/check/confirm", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def confirm(batch):
    """人员确认 of the 清册未能匹配人员 (我已阅读并同意 → 确认提交)."""
    require_visible(batch)
    agreed = request.form.get("agree") == "1"
    return _act(batch, lambda: roster_check.confirm_unmatched(batch, acting_account(), agreed),
                "清册未能匹配人员已确认", "unmatched")


@bp.route("/<int:batch_id>/check/ticks", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def ticks(batch):
    """The rule-1 ticks (社保尚在缴金 / 医保享受在职待遇) of the over-age people shown."""
    require_visible(batch)
    shown, paying, medical = form_ids("shown"), form_ids("paying"), form_ids("medical")
    return _act(batch, lambda: roster_check.tick_over_age(batch, acting_account(), shown, paying, medical),
                "在职超龄人员勾选已保存", "over-age")


@bp.route("/<int:batch_id>/check/remove", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def remove_people(batch):
    """移除: an over-age person (which=over_age, id) or every retiree (which=retired)."""
    require_visible(batch)
    which, ids = request.form.get("which", ""), form_ids("id")

    def op():
        gone = roster_check.remove_people(batch, acting_account(), which, ids)
        flash(f"已移除{gone}人", "success")
    return _act(batch, op, "", "result")


@bp.route("/<int:batch_id>/attachments", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def upload(batch):
    """选择上传: one or more files under the 附件类型 chosen."""
    require_visible(batch)
    kind = request.form.get("kind", "")
    chosen = [(f.filename or "", f.read(attachment_ops.MAX_FILE_BYTES + 1)) for f in request.files.getlist("file")]
    chosen = [(name, data) for name, data in chosen if name or data]

    def op():
        if not chosen:
            raise DomainError("请选择要上传的附件文件", 422)
        for name, data in chosen:
            attachment_ops.upload(batch, kind, name, data, acting_account())
    return _act(batch, op, "附件已上传", "attachments")


@bp.route("/<int:batch_id>/attachments/remove", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def remove(batch):
    """The × of an uploaded file (n = its id)."""
    require_visible(batch)
    attachment_id = int_arg(request.form.get("n"))
    return _act(batch, lambda: attachment_ops.remove(batch, attachment_id, acting_account()), "附件已删除",
                "attachments")


@bp.route("/<int:batch_id>/submit", methods=["GET", "POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, may="operates_mutual_aid", refusal=NOT_UNIT)
def submit(batch):
    """清册提交: the 承诺书 (a dialog over the check page with JavaScript; this page without), and
    确认提交 — every check again on the server; → 保障项目待选择 or 附件审核中."""
    require_visible(batch)
    if request.method == "GET":
        return render_page("mutual_aid_check/submit.html", "dialog", batch=batch, letter=LETTER, error=None,
                           r=roster_check.report(batch))
    try:
        batch = roster_check.submit(batch, acting_account(), request.form.get("agree") == "1")
    except DomainError as exc:
        return render_page("mutual_aid_check/submit.html", status=exc.status, batch=batch, letter=LETTER,
                           error=exc.message, r=roster_check.report(batch))
    if batch.status == ATTACH_REVIEW:
        flash("清册已提交，附件审核中（审核时间为提交申请后2个工作日），可在状态栏查看审核进度", "success")
    else:
        flash("清册已提交，请进行保障项目选择", "success")
    return redirect_to(url_for("mutual_aid_check.check", batch_id=batch.id))


# --- the files and the centre's 附件审核 -------------------------------------------------------------
@bp.route("/<int:batch_id>/attachments/file")
@access(*VIEWERS, objects={"batch_id": AidBatch})
def file(batch):
    """An uploaded attachment (?n=<its id>): only to the unit and the centre / admin, else 404
    (?inline=1 预览)."""
    require_visible(batch)
    if not request.args.get("n"):  # no file named: the batch's list of files
        return redirect(url_for("mutual_aid_check.check", batch_id=batch.id, _anchor="attachments"))
    attachment_id = int_arg(request.args.get("n"))
    if not (current_user.acts_for_centre or batch.code.account_id == current_user.id):
        abort(404)
    row = BatchAttachment.get_or_none((BatchAttachment.id == attachment_id) & (BatchAttachment.batch == batch.id))
    path = attachment_ops.file_path(row) if row else None
    if path is None or not path.exists():
        abort(404)
    ext = row.stored_name.rsplit(".", 1)[-1]
    name = row.file_name if row.file_name.lower().endswith(f".{ext}") else f"{row.file_name}.{ext}"
    return file_response(path.read_bytes(), name, row.content_type, slug=f"aid-attachment-{batch.id}-{row.id}",
                         inline=request.args.get("inline") == "1")


@bp.route("/<int:batch_id>/attachments/<any(pass, fail):action>", methods=["POST"])
@access("centre", "city", objects={"batch_id": AidBatch})  # 市总工会: refused as read-only
def decide(batch, action):
    """附件审核通过 / 附件审核不通过 (the reason, required)."""
    reason = normalize(request.form.get("reason"))
    try:
        batch = attachment_ops.decide(batch, action == "pass", acting_account(), reason)
    except DomainError as exc:
        return check_page(batch, status=exc.status, error=exc.message, reason=reason)
    flash(f"「{batch.code.unit_name}」{batch}：{batch.status if action == 'fail' else '附件审核通过'}", "success")
    return redirect_to(url_for("mutual_aid_attachments.review"))
