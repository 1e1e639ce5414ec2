"""在职职工互助保障 → 参保批次管理 (seed 004 参保状态说明): the unit's batches (保障年度, 参保类型, 参保编码,
单位名称, 人数, 状态, 操作) with 集中参保办理 / 即时参保办理 (参保编码 + 参保单位名称 → 确定操作 → the
roster), 批次删除 (清册待校验 / 清册校验不通过; asked inline with htmx, on a page without JS) and
批次撤回 (reason, 重新整理清册 / 重新选择保障项目) — over models/mutual_aid/batch_ops.py.
A district / secondary union sees its subtree's batches, 市总工会 and the centre all of them — read-only."""

import peewee as pw
from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from models.base import DomainError
from models.mutual_aid import batch_ops, years
from models.mutual_aid.batches import BATCH_STATES, INSURED, WITHDRAW_CHOICES, AidBatch, RosterEntry
from models.mutual_aid.codes import APPROVED, InsuranceCode
from models.mutual_aid.roster_list import UNIT_ROLES, VIEWERS, foreign_to, next_steps
from models.rules.text import normalize
from views.access import access, acting_account, redirect_to, render_page, scoped
from views.paging import paginate

bp = Blueprint("mutual_aid_batches", __name__, url_prefix="/mutual-aid/batches")

UNIT = {"may": "operates_mutual_aid", "refusal": "只有参保单位的账号可以办理互助保障参保"}
KINDS = {"central": years.CENTRAL, "instant": years.INSTANT}


def require_own(batch: AidBatch) -> None:
    """A unit reaches only its own code's batches (404, as outside its scope); the others look."""
    if foreign_to(batch, current_user):
        abort(404)


def listing():
    """The batches this account sees, newest first, with their 人数."""
    people = (RosterEntry.select(pw.fn.COUNT(RosterEntry.id)).where((RosterEntry.batch == AidBatch.id)
                                                                    & RosterEntry.active))
    query = (scoped(AidBatch, current_user).select_extend(people.alias("people"))
             .join(InsuranceCode).switch(AidBatch))
    if current_user.role in UNIT_ROLES:
        query = query.where(InsuranceCode.account == current_user.id)
    status = normalize(request.args.get("status"))
    if status in BATCH_STATES:
        query = query.where(AidBatch.status == status)
    return query.order_by(AidBatch.created_at.desc(), AidBatch.id.desc()), status


@bp.route("/")
@access(*VIEWERS)
def index():
    """参保批次管理: the batches, 集中参保办理 / 即时参保办理 for the unit."""
    query, status = listing()
    code = InsuranceCode.get_or_none(InsuranceCode.account == current_user.id) if current_user.operates_mutual_aid \
        else None
    return render_page("mutual_aid_batches/index.html", "rows", page=paginate(query), status_filter=status,
                       states=BATCH_STATES, code=code, unit=current_user.operates_mutual_aid,
                       next_steps=next_steps)


def running_central(code: InsuranceCode) -> AidBatch | None:
    """The code's centralized batch of the year being enrolled, while it is not finished (the
    refusal of a second one links to it)."""
    try:
        year = years.enrolling_year(years.CENTRAL)
    except DomainError:
        return None
    batch = batch_ops.central_batch(code, year)
    return batch if batch is not None and batch.status != INSURED else None


@bp.route("/start/<any(central, instant):kind>", methods=["GET", "POST"])
@access(*UNIT_ROLES, **UNIT)
def start(kind):
    """集中参保办理 / 即时参保办理: 参保编码 + 参保单位名称 → 确定操作 → the roster page."""
    label = KINDS[kind]
    mine = InsuranceCode.get_or_none((InsuranceCode.account == current_user.id) & (InsuranceCode.status == APPROVED))
    values = {"code": normalize(request.form.get("code")) if request.method == "POST" else (mine.code if mine else ""),
              "unit_name": normalize(request.form.get("unit_name"))}
    error, status, code, held = None, 200, None, None
    if request.method == "POST":
        try:
            code = batch_ops.find_code(acting_account(), values["code"][:40], values["unit_name"][:100])
            batch = batch_ops.create_batch(code, label, acting_account())
        except DomainError as exc:
            error, status = exc.message, exc.status
            held = running_central(code) if code is not None and kind == "central" else None
        else:
            flash(f"已创建{batch.year.year}年度{label}批次，请添加参保人员", "success")
            return redirect_to(url_for("mutual_aid_roster.roster", batch_id=batch.id))
    return render_page("mutual_aid_batches/start.html", status=status, kind=kind, label=label, values=values,
                       error=error, mine=mine, held=held)


@bp.route("/<int:batch_id>/delete", methods=["GET", "POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, **UNIT)
def delete(batch):
    """批次删除: asked first (inline with htmx, a page without JS); the batch and all its people go."""
    require_own(batch)
    error, status = None, 200
    if request.method == "POST":
        try:
            people = batch_ops.delete_batch(batch, acting_account())
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"已删除{batch.year.year}年度{batch.kind}批次（参保编码{batch.code.code}）及其{people}名参保人员",
                  "success")
            return redirect_to(url_for("mutual_aid_batches.index"))
    people = RosterEntry.select().where(RosterEntry.batch == batch.id).count()
    return render_page("mutual_aid_batches/delete.html", "confirm", status=status, batch=batch, people=people,
                       error=error)


@bp.route("/<int:batch_id>/withdraw", methods=["GET", "POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, **UNIT)
def withdraw(batch):
    """批次撤回: 重新整理清册 / 重新选择保障项目 with a reason → 确认操作."""
    require_own(batch)
    choice = request.form.get("choice", "")
    reason = normalize(request.form.get("reason"))[:500]
    error, status = None, 200
    if request.method == "POST":
        try:
            batch_ops.withdraw(batch, choice, acting_account(), reason)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"批次已撤回（{WITHDRAW_CHOICES[choice]}），状态：{AidBatch.get_by_id(batch.id).status}", "success")
            return redirect_to(url_for("mutual_aid_batches.index"))
    return render_page("mutual_aid_batches/withdraw.html", status=status, batch=batch, choices=WITHDRAW_CHOICES,
                       choice=choice, reason=reason, error=error)
