"""集中参保审核 / 即时参保审核 (secondary and district unions, spec 60): the two panes 待审批参保列表
and 待提交参保列表 on one page, → 添加至待提交, ← 移除, 退回 (with a reason, through a page that
works without JavaScript), and — for the district — 提交列表中的参保信息 → 提交参保批次确认.

Both panes are filtered independently (p_… and q_… query parameters); htmx swaps one pane.
"""

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from forms.review import HandlerForm, ReasonForm
from models.base import DomainError, today
from models.enroll import plans
from models.enroll.enrollment import CHANNELS, Submission
from models.review import enroll_review
from models.review.batches import DistrictBatch
from models.rules.fees import yuan
from models.rules.text import normalize
from views.access import (
    access,
    acting_account,
    back_to_list,
    int_arg,
    redirect_to,
    refuse,
    render_page,
    submitted_between,
)
from views.paging import Page

bp = Blueprint("enroll_review", __name__, url_prefix="/review")
TITLES = {"central": "集中参保审核", "instant": "即时参保审核"}
PANES = ("pending_pane", "queued_pane")  # ?pane= for a fragment; anything else is the whole screen
PER_PAGE = 15
# Who reviews: a district or secondary union — the admin is refused with the reason.
REVIEWERS = dict(may="is_reviewer", refusal="只有二级工会和区局（产业）工会可以审核参保信息")


def year_of(kind: str):
    """Centralized: the year being enrolled (next year from October); instant: this year."""
    return plans.central_year() if kind == "central" else plans.get_year(today().year)


def _context(kind: str):
    """((the reviewing union, the year), None), or (None, the refusal) when the year is not set."""
    year = year_of(kind)
    if year is None:
        return None, refuse("保障年度尚未设置，暂无参保信息可审核", 409)
    return (current_user.org, year), None


def _ticked(kind: str, source, none_ticked: str):
    """((union, year, the ticked rows' keys in `source`), None), or (None, the refusal / the list
    with `none_ticked` when nothing was ticked)."""
    ctx, refused = _context(kind)
    if refused:
        return None, refused
    keys = source.getlist("key")
    if not keys:
        return None, back_to_list(none_ticked, _back(kind))
    return (*ctx, keys), None


def _page_number(name: str) -> int:
    return int_arg(request.args.get(name), default=1, low=1)


def _filtered(org, year, kind: str, queued: bool, args) -> tuple:
    """(query, shown filter values, errors) of one pane."""
    p = "q_" if queued else "p_"
    shown = {k: normalize(args.get(p + k)) for k in ("name", "code", "parent", "channel", "mode", "type")}
    kind_name = enroll_review.KINDS[kind]
    query = enroll_review.filter_pane(enroll_review.pane(org, year, kind_name, queued), year, kind_name, queued, shown)
    query, dates, errors = submitted_between(query, Submission.submitted_at, args, prefix=p)
    shown.update(dates)
    return query, shown, errors


class PanePage(Page):
    """A pager whose links keep the other pane's filters and page (p_page / q_page)."""
    def __init__(self, *a, param: str, **kw):
        super().__init__(*a, **kw)
        self.param = param  # Page.url sets this query name


def _pane(org, year, kind, queued: bool) -> dict:
    query, shown, errors = _filtered(org, year, kind, queued, request.args)
    param = "q_page" if queued else "p_page"
    rows, total = enroll_review.groups(query, _page_number(param), PER_PAGE)
    number = min(_page_number(param), max(1, -(-total // PER_PAGE)))
    if number != _page_number(param):
        rows, _ = enroll_review.groups(query, number, PER_PAGE)
    return {"page": PanePage(items=rows, number=number, per_page=PER_PAGE, total=total, param=param),
            "f": shown, "errors": errors, "totals": enroll_review.totals(query) if queued else None}


def _screen(kind: str, block: str | None = None, status: int = 200, **extra):
    org, year = current_user.org, year_of(kind)
    if year is None:
        return render_page("enroll_review/no_year.html", title=TITLES[kind],
                           message="保障年度尚未设置，暂无参保信息可审核（由市职保中心在“保障年度设置”中设置）。")
    pending, queued = _pane(org, year, kind, False), _pane(org, year, kind, True)
    is_district = org.level == "district"
    window = plans.window_state(year, "district_submit", org) if kind == "central" else None
    district = org if is_district else plans.district_of(org)
    credit = enroll_review.credit_line(district, year) if kind == "central" else ""
    return render_page("enroll_review/queue.html", block, status=status, kind=kind, title=TITLES[kind], year=year,
                       org=org, pending=pending, queued=queued, is_district=is_district, window=window,
                       credit=credit, types=plans.types_of(year), channels=CHANNELS,
                       modes=enroll_review.modes_of(enroll_review.KINDS[kind]), yuan=yuan, **extra)


def _pane_block() -> str | None:
    pane = request.args.get("pane")
    return pane if pane in PANES else None


@bp.route("/central")
@access("district", "secondary", **REVIEWERS)
def central():
    """集中参保审核."""
    return _screen("central", _pane_block())


@bp.route("/instant")
@access("district", "secondary", **REVIEWERS)
def instant():
    """即时参保审核."""
    return _screen("instant", _pane_block())


def _back(kind: str) -> str:
    return url_for(f"enroll_review.{kind}")


def _move_rows(kind: str, operation, done: str, none_ticked: str):
    """→ 添加至待提交 / ← 移除: the ticked rows (keys) of a pane, refused as a whole with the reason
    (shown on the list, like nothing ticked)."""
    ticked, refused = _ticked(kind, request.form, none_ticked)
    if refused:
        return refused
    org, year, keys = ticked
    try:
        n = operation(org, year, enroll_review.KINDS[kind], keys, acting_account())
    except DomainError as exc:
        return back_to_list(exc.message, _back(kind))
    flash(f"{done}：{n}人", "success")
    return redirect_to(_back(kind))


@bp.route("/<any(central, instant):kind>/add", methods=["POST"])
@access("district", "secondary", **REVIEWERS)
def add(kind):
    """→ 添加至待提交."""
    return _move_rows(kind, enroll_review.add_to_queue, "已添加至待提交参保列表",
                      "请先在待审批参保列表中勾选要添加至待提交的参保信息")


@bp.route("/<any(central, instant):kind>/remove", methods=["POST"])
@access("district", "secondary", **REVIEWERS)
def remove(kind):
    """← 移除 (back to 待审批参保列表)."""
    return _move_rows(kind, enroll_review.remove_from_queue, "已移除至待审批参保列表",
                      "请先在待提交参保列表中勾选要移除的参保信息")


@bp.route("/<any(central, instant):kind>/return", methods=["GET", "POST"])
@access("district", "secondary", **REVIEWERS)
def return_(kind):
    """退回 to the grassroots union, with a required reason: the list's 退回 button posts the
    ticked rows here (step=ask: the reason form), the form posts them back with the reason."""
    ticked, refused = _ticked(kind, request.values, "请先在待审批参保列表中勾选要退回的参保信息")
    if refused:
        return refused
    org, year, keys = ticked
    kind_name = enroll_review.KINDS[kind]
    form = ReasonForm()
    try:
        chosen = enroll_review.resolve(org, year, kind_name, keys, queued=False)
    except DomainError as exc:
        return back_to_list(exc.message, _back(kind))
    if request.method == "POST" and request.form.get("step") != "ask" and form.validate():
        try:
            n = enroll_review.return_groups(org, year, kind_name, keys, form.reason.data, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        flash(f"已退回{n}人的参保信息至基层单位", "success")
        return redirect_to(_back(kind))
    return render_page("enroll_review/return.html", "form", status=422 if form.errors else 200, kind=kind,
                       title=TITLES[kind], form=form, keys=keys, chosen=chosen, yuan=yuan)


@bp.route("/<any(central, instant):kind>/submit", methods=["GET", "POST"])
@access("district", **REVIEWERS)
def submit(kind):
    """提交列表中的参保信息 → 提交参保批次确认 (* 姓名, * 手机号, * 电子邮箱) → 确认提交至职保中心."""
    ctx, refused = _context(kind)
    if refused:
        return refused
    org, year = ctx
    if kind == "central":
        state = plans.window_state(year, "district_submit", org)
        if not state.open:
            return refuse(state.reason, 409)
    query = enroll_review.pane(org, year, enroll_review.KINDS[kind], True)
    totals = enroll_review.totals(query)
    if not totals.count and request.method == "GET":
        return refuse("待提交参保列表中没有参保信息，请先添加至待提交", 409)
    last = DistrictBatch.select().where(DistrictBatch.district == org.id).order_by(DistrictBatch.id.desc()).first()
    form = HandlerForm(data={"name": last.handler_name, "mobile": last.handler_mobile,
                             "email": last.handler_email} if last and request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        try:
            batch = enroll_review.submit_to_centre(org, year, enroll_review.KINDS[kind], {
                "name": form.name.data, "mobile": form.mobile.data, "email": form.email.data}, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        flash(f"已提交至职保中心，参保批次编号 {batch.number}，状态 参保审核中。确认提交后将无法修改。", "success")
        return redirect_to(url_for("batches.detail", batch_id=batch.id, submitted=1))
    return render_page("enroll_review/submit.html", "form", status=422 if form.errors else 200, kind=kind,
                       title=TITLES[kind], form=form, totals=totals, year=year,
                       credit=enroll_review.credit_line(org, year) if kind == "central" else "")
