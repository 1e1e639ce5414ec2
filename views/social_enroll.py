"""社保卡参保信息管理 (grassroots, spec 50 / seed 002): the union's submissions in this channel and
参保确认画面 (集中参保办理 / 即时参保办理) with ① 获取社保卡和就业状态 (a background job with progress),
② 参保待确认名单, the tabs ③ 待校验 / ④ 待提交 (real URLs; htmx swaps the tab) and ⑤ 提交至上级审核
(ticked people of 待提交 only, through a confirmation page that works without JavaScript).
"""

from flask import Blueprint, flash, make_response, request, session, url_for
from flask_login import current_user

from models.base import DomainError, today
from models.enroll import enrollment, notice_pdf, plans, social_enroll
from models.enroll.enrollment import Submission
from models.jobs import Job
from models.rules import fees as rules
from models.rules.fees import yuan
from models.rules.text import normalize
from views.access import (
    access,
    acting_account,
    back_to_list,
    form_ids,
    int_arg,
    redirect_to,
    refuse,
    render_page,
    submitted_between,
)
from views.paging import paginate

bp = Blueprint("social_enroll", __name__, url_prefix="/enroll/social")
GRASSROOTS = {"may": "operates_grassroots", "refusal": "只有基层工会可以办理社保卡参保"}
MODES = [enrollment.CENTRAL, enrollment.INSTANT]  # 参保类型 of this channel
TITLES = {"central": "参保确认画面-集中参保办理", "instant": "参保确认画面-即时参保办理"}
CARD_FILTER = [*enrollment.CARD_STATUSES, "-"]
NO_YEAR = "保障年度尚未设置，暂不能办理社保卡参保"


@bp.route("/")
@access("grassroots", **GRASSROOTS)
def index():
    """社保卡参保信息管理: 批次编号, 社保卡参保人数, 提交时间, 最后更新时间, 状态, 参保类型, 操作."""
    query, shown = enrollment.filter_submissions(social_enroll.submissions(current_user.org), request.args, MODES)
    listed, dates, errors = submitted_between(query, Submission.submitted_at, request.args)
    return render_page("social_enroll/index.html", "rows", status=422 if errors else 200, errors=errors,
                       dates=dates, page=paginate(listed), **shown)


def _screen_context(org, year, kind: str, ptype_id: int = 0) -> dict:
    s = social_enroll.screen(org, year)
    types, locked, chosen = enrollment.type_choice(org, year, ptype_id)
    on = today()
    mode = social_enroll.KINDS[kind]
    parts, error, start, end, period = None, None, None, None, None
    try:
        start, end, period = enrollment.coverage(year.year, mode, on)
    except DomainError as exc:
        error = exc.message
    if chosen and period:
        try:
            parts = rules.for_count(plans.parts_by_period(org, chosen)[period], s.count("ready"))
        except DomainError as exc:
            error = exc.message
    window = plans.window_state(year, "grassroots" if kind == "central" else "instant", org)
    tab = request.values.get("tab") if request.values.get("tab") in social_enroll.TABS else "ready"
    card_filter = normalize(request.values.get("card_status"))
    ids = s.sets[tab]
    if card_filter in CARD_FILTER:
        ids = {pid for pid in ids if (s.checks[pid].card_status if pid in s.checks else "-") == card_filter}
    table = paginate(social_enroll.people(ids), per_page=20)
    running = social_enroll.latest_check(org)
    pay = plans.window_state(year, "grassroots_pay", org)
    return {"s": s, "year": year, "kind": kind, "title": TITLES[kind], "types": types, "locked": locked,
            "chosen": chosen, "parts": parts, "parts_error": error, "window": window, "tab": tab,
            "tabs": social_enroll.TABS, "page": table, "card_filter": card_filter, "card_filters": CARD_FILTER,
            "running": running, "counts": social_enroll.COUNTS, "start": start, "end": end, "period": period,
            "hidden_line": social_enroll.hidden_line(s), "yuan": yuan, "pay_deadline": pay.ends,
            "hint": social_enroll.ABNORMAL_HINT}


@bp.route("/<any(central, instant):kind>", methods=["GET", "POST"])
@access("grassroots", **GRASSROOTS)
def screen(kind):
    """参保确认画面 (集中参保办理 / 即时参保办理); POST = ⑤ 提交至上级审核."""
    org, year = current_user.org, plans.enrolling_year(kind, NO_YEAR)
    source = request.form if request.method == "POST" else request.args
    ptype_id = int_arg(source.get("type"))
    context = _screen_context(org, year, kind, ptype_id)
    if request.method == "GET":
        return render_page("social_enroll/screen.html", "tab" if request.args.get("pane") == "tab" else None,
                           **context)
    ids = form_ids("person")
    try:
        chosen = enrollment.picked_type(context["types"], context["locked"], ptype_id)
        if not ids:
            raise DomainError("请在【待提交】中勾选要参保的人员!", 422)
        if not context["window"].open:
            raise DomainError(context["window"].reason, 409)
    except DomainError as exc:
        return render_page("social_enroll/screen.html", status=exc.status, error=exc.message, **context)
    if request.form.get("confirmed") != "1":
        ready = context["s"].sets["ready"]
        return render_page("social_enroll/confirm.html", chosen=chosen, kind=kind, title=context["title"],
                           ids=ids, people=list(social_enroll.people([i for i in ids if i in ready])), year=year)
    try:
        sub = social_enroll.submit(org, year, kind, chosen, ids, acting_account(), today())
    except DomainError as exc:
        return render_page("social_enroll/screen.html", status=exc.status, error=exc.message,
                           **_screen_context(org, year, kind, ptype_id))
    flash(f"已提交至上级审核：社保卡参保 {sub.count}人，保障类型「{chosen.name}」，状态 区局确认中", "success")
    if sub.mode == enrollment.CENTRAL:  # the result page starts the 集中参保告知书 once
        session[notice_pdf.DOWNLOAD_ONCE] = sub.id
    return redirect_to(url_for("card_enroll.submission", submission_id=sub.id))


@bp.route("/<any(central, instant):kind>/verify", methods=["POST"])
@access("grassroots", **GRASSROOTS)
def verify(kind):
    """① 获取社保卡和就业状态: a background job (a second click while it runs joins the same job)."""
    org, year = current_user.org, plans.enrolling_year(kind, NO_YEAR)
    try:
        job, started = social_enroll.start_check(org, year, acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash("已开始获取社保卡和就业状态，完成后列表自动刷新" if started else "正在获取社保卡和就业状态，请稍候",
          "success")
    return redirect_to(url_for("social_enroll.screen", kind=kind, tab="verify"))


@bp.route("/<any(central, instant):kind>/progress")
@access("grassroots", **GRASSROOTS)
def progress(kind):
    """The verification's progress (htmx polls it); when it ends, the page reloads (HX-Refresh)."""
    job = Job.get_or_none((Job.id == int_arg(request.args.get("job"))) & (Job.org == current_user.org_id)
                          & (Job.kind == social_enroll.VERIFY_JOB))
    if job is None:
        return refuse("没有这个校验任务", 404)
    response = make_response(render_page("social_enroll/screen.html", "progress", running=job, kind=kind))
    if job.finished:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/<any(central, instant):kind>/people/<any(retired, dead, pending, verify, ready, submitted):which>")
@access("grassroots", **GRASSROOTS)
def people(kind, which):
    """The people behind a count (可点击下划线查看具体人员)."""
    org, year = current_user.org, plans.enrolling_year(kind, NO_YEAR)
    s = social_enroll.screen(org, year)
    return render_page("social_enroll/people.html", "rows", page=paginate(social_enroll.people(s.sets[which])),
                       title=social_enroll.LABELS[which], kind=kind, checks=s.checks, year=year)


@bp.route("/<any(central, instant):kind>/pending", methods=["GET", "POST"])
@access("grassroots", **GRASSROOTS)
def pending(kind):
    """② 参保待确认名单: 确认 one or 全部确认 (irreversible, asked first)."""
    org, year = current_user.org, plans.enrolling_year(kind, NO_YEAR)
    s = social_enroll.screen(org, year)
    if request.method == "POST":
        everyone = request.form.get("all") == "1"
        ids = sorted(s.sets["pending"]) if everyone else [i for i in form_ids("person") if i in s.sets["pending"]]
        back = url_for("social_enroll.pending", kind=kind)
        if not ids:
            return back_to_list("请先勾选要确认的人员（或所选人员已被确认）", back)
        if request.form.get("confirmed") != "1":
            return render_page("social_enroll/pending_confirm.html", people=list(social_enroll.people(ids)),
                               everyone=everyone, ids=ids, kind=kind)
        try:
            n = social_enroll.confirm(org, year, None if everyone else ids, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        flash(f"已确认{n}人，已自动加入【待提交】且无法移除", "success")
        return redirect_to(back)
    listed = s.sets["pending"] | (s.sets["confirmed"] & (s.sets["ready"] | s.sets["pending"]))
    return render_page("social_enroll/pending.html", "rows", page=paginate(social_enroll.people(listed)),
                       confirmed=s.sets["confirmed"], kind=kind, year=year, checks=s.checks)
