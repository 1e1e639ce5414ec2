"""参保批次管理 → 参保清册 (seed 004 形成参保名单 / 编辑名单 / 参保名单姓名校验): a batch's people with the
counts at the top (each a link to exactly its people), the filters 职退状态 / 是否超龄 / 警告, paging;
添加参保人员 (获取上年度参保名单, 获取“会员库”本单位工会会员名单, 上传本地参保名单文件 — the upload
is the import's own page), 编辑, 移除 / 批量删除, 设置在职 / 批量设置为在职 (each through a
confirmation that works without JavaScript) and 姓名匹配异常，请人工确认 — over
models/mutual_aid/roster_edit.py. Read-only for anyone but the batch's unit, and once the roster is locked."""

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from models.base import DomainError, FieldErrors, in_values
from models.mutual_aid import roster_edit, roster_list
from models.mutual_aid.batches import EMPLOYMENT, RESIDENT_ID, UNKNOWN, AidBatch, RosterEntry
from models.mutual_aid.roster_list import UNIT_ROLES, VIEWERS, foreign_to, next_steps, operated_by
from models.rules.aid_people import GENDERS
from models.rules.text import normalize
from views.access import access, acting_account, form_ids, int_arg, redirect_to, refuse, render_page
from views.paging import paginate

bp = Blueprint("mutual_aid_roster", __name__, url_prefix="/mutual-aid/batches")

UPLOAD = "mutual_aid_upload.upload"  # 上传本地参保名单文件: the import's page (ma-import)
SKIPPED_SHOWN = 20
UNIT = {"may": "operates_mutual_aid", "refusal": "只有参保单位的账号可以办理互助保障参保"}
ACTIONS = {"remove": ("移除", "批量删除"), "in_service": ("设置在职", "批量设置为在职")}


def require_own(batch: AidBatch) -> None:
    """A unit reaches only its own code's batches (404, as outside its scope); the others look."""
    if foreign_to(batch, current_user):
        abort(404)


def operates(batch: AidBatch) -> bool:
    return operated_by(batch, current_user)


def _roster_url(batch: AidBatch, filters: dict | None = None) -> str:
    return url_for("mutual_aid_roster.roster", batch_id=batch.id, **(filters or {}))


def _upload_url(batch: AidBatch) -> str | None:
    """上传本地参保名单文件: the import's page once it exists (its own arguments, else /<id>/upload)."""
    if UPLOAD not in current_app.view_functions:
        return None
    try:
        return url_for(UPLOAD, batch_id=batch.id)
    except BuildError:
        return f"{url_for('mutual_aid_roster.roster', batch_id=batch.id).removesuffix('/roster')}/upload"


@bp.route("/<int:batch_id>/roster")
@access(*VIEWERS, objects={"batch_id": AidBatch})
def roster(batch):
    """参保清册: counts, filters, the people (20 a page), the unit's buttons while it may change it."""
    require_own(batch)
    filters = roster_list.clean_filters(request.args)
    on = roster_list.ref_day(batch)
    page = paginate(roster_list.people(batch, filters, on), per_page=20)
    return render_page("mutual_aid_roster/roster.html", "rows", batch=batch, page=page, f=filters, on=on,
                       counts=roster_list.counts(batch, on), employment=EMPLOYMENT, ages=roster_list.AGE_FILTERS,
                       can_edit=operates(batch) and batch.editable, over=roster_list.over_age_of,
                       resident=RESIDENT_ID, unknown=UNKNOWN, upload_url=_upload_url(batch),
                       warnings=roster_list.people(batch, {"warning": "1"}).count(), next_steps=next_steps)


@bp.route("/<int:batch_id>/roster/add/<any(last_year, members):source>", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, **UNIT)
def add(batch, source):
    """获取上年度参保名单 / 获取“会员库”本单位工会会员名单: the people come in, the skipped are listed."""
    require_own(batch)
    try:
        done = (roster_edit.add_last_year if source == "last_year" else roster_edit.add_members)(
            batch, acting_account())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect_to(_roster_url(batch))
    flash(f"已添加{done.added}名参保人员" + (f"，{len(done.skipped)}人未添加" if done.skipped else ""),
          "success" if done.added else "error")
    for line in done.skipped[:SKIPPED_SHOWN]:
        flash(line, "error")
    if len(done.skipped) > SKIPPED_SHOWN:
        flash(f"……另有{len(done.skipped) - SKIPPED_SHOWN}人未添加", "error")
    return redirect_to(_roster_url(batch))


def _entry(batch: AidBatch, entry_id: int) -> RosterEntry:
    entry = RosterEntry.get_or_none((RosterEntry.id == entry_id) & (RosterEntry.batch == batch.id))
    if entry is None:
        abort(404)
    return entry


def _day(text: str):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date() if text else None
    except ValueError:
        raise FieldErrors("出生日期：格式应为 年-月-日", {"出生日期": "出生日期：格式应为 年-月-日"}) from None


@bp.route("/<int:batch_id>/roster/edit", methods=["GET", "POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, **UNIT)
def edit(batch):
    """编辑 (?entry=<id>, a non-ID-card person): 姓名, 性别, 出生日期; 证件类型不可变更."""
    require_own(batch)
    if not request.args.get("entry"):  # no person named: the roster
        return redirect(_roster_url(batch))
    entry = _entry(batch, int_arg(request.args.get("entry")))
    values = {"name": entry.name, "gender": entry.gender, "birth_date": f"{entry.birth_date:%Y-%m-%d}"}
    error, errors, status = None, {}, 200
    if request.method == "POST":
        values = {k: normalize(request.form.get(k))[:50] for k in values}
        try:
            roster_edit.edit_entry(batch, entry, {**values, "birth_date": _day(values["birth_date"])},
                                   acting_account())
        except FieldErrors as exc:
            error, errors, status = exc.message, exc.errors, exc.status
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"已保存「{normalize(request.form.get('name'))}」的人员信息", "success")
            return redirect_to(_roster_url(batch))
    elif entry.id_type == RESIDENT_ID or not batch.editable:
        error, status = ("证件类型为居民身份证的人员不能编辑（编辑仅限非身份证类型）" if batch.editable
                         else roster_edit.LOCKED.format(batch.status)), 409
    return render_page("mutual_aid_roster/edit.html", status=status, batch=batch, entry=entry, values=values,
                       error=error, errors=errors, genders=GENDERS, resident=RESIDENT_ID)


@bp.route("/<int:batch_id>/roster/<any(remove, in_service):action>", methods=["POST"])
@access(*UNIT_ROLES, objects={"batch_id": AidBatch}, **UNIT)
def act(batch, action):
    """移除 / 批量删除 and 设置在职 / 批量设置为在职: the ticked rows, or (all=1) everyone the filters
    show — asked first on a confirmation page, done on its 确定."""
    require_own(batch)
    filters = roster_list.clean_filters(request.form)
    everyone = request.form.get("all") == "1"
    one = int_arg(request.form.get("one"), default=None, low=1)  # a row's own 移除 / 设置在职 button
    ids = None if everyone else ([one] if one else form_ids("entry"))
    single, bulk = ACTIONS[action]
    if not everyone and not ids:
        flash(f"请勾选要{single}的人员", "error")
        return redirect_to(_roster_url(batch, filters))
    if request.form.get("confirmed") != "1":
        chosen = roster_list.people(batch, filters) if everyone else \
            roster_list.people(batch).where(in_values(RosterEntry.id, ids))
        n = chosen.count()
        return render_page("mutual_aid_roster/confirm.html", batch=batch, action=action, f=filters, ids=ids,
                           everyone=everyone, n=n, names=[e.name for e in chosen.limit(20)],
                           title=bulk if everyone or len(ids) > 1 else single)
    run = roster_edit.remove if action == "remove" else roster_edit.set_in_service
    try:
        n = run(batch, acting_account(), entry_ids=ids, filters=filters if everyone else None)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已移除{n}名参保人员" if action == "remove" else f"已将{n}名人员设置为在职", "success")
    return redirect_to(_roster_url(batch, filters))


@bp.route("/<int:batch_id>/roster/names", methods=["GET", "POST"])
@access(*VIEWERS, objects={"batch_id": AidBatch})
def names(batch):
    """姓名匹配异常，请人工确认: the 警告 people with their candidate names (radio buttons) → 确认."""
    require_own(batch)
    page = paginate(roster_list.people(batch, {"warning": "1"}), per_page=50)
    error, status = None, 200
    if request.method == "POST":
        if not operates(batch):
            return refuse("只有本批次的参保单位可以确认姓名", 403)
        choices = {int_arg(k.removeprefix("name-")): v for k, v in request.form.items()
                   if k.startswith("name-") and int_arg(k.removeprefix("name-"))}
        try:
            n = roster_edit.confirm_names(batch, choices, acting_account())
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"已确认{n}名人员的姓名", "success")
            return redirect_to(url_for("mutual_aid_roster.names", batch_id=batch.id)
                               if roster_list.people(batch, {"warning": "1"}).exists() else _roster_url(batch))
    return render_page("mutual_aid_roster/names.html", status=status, batch=batch, page=page, error=error,
                       candidates=roster_list.candidates, can_edit=operates(batch) and batch.editable)
