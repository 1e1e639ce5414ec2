"""社保卡参保信息管理 (grassroots, spec 50 / seed 002): the union's submissions in this channel and
参保确认画面 (集中参保办理 / 即时参保办理) with ① 获取社保卡和就业状态 (a background job with progress),
② 参保待确认名单, the tabs ③ 待校验 / ④ 待提交 (real URLs; htmx swaps the tab) and ⑤ 提交至上级审核
(ticked people of 待提交 only, through a confirmation page that works without JavaScript).
"""

from flask import Blueprint, flash, make_response, request, url_for
from flask_login import current_user

from models.base import DomainError, today, yuan
from models.enroll import enrollment, plans
from models.enroll import social_enroll as social
from models.jobs import Job
from models.rules import fees as rules
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
)
from views.enroll import central_year, submission_list, submitted
from views.paging import paginate

bp = Blueprint("social", __name__, url_prefix="/enroll/social")
TITLES = {"central": "参保确认画面-集中参保办理", "instant": "参保确认画面-即时参保办理"}
CARD_FILTER = ["正常", "封存", "挂失", "锁定", "注销", "不明确", "-"]


def _year(kind: str):
    return central_year() if kind == "central" else plans.get_year(today().year)


def _grassroots():
    org = current_user.org
    if current_user.is_admin or org.level != "grassroots" or org.is_closed:
        return None, refuse("只有基层工会可以办理社保卡参保")
    return org, None


def _context(kind: str):
    org, refused = _grassroots()
    if refused:
        return None, refused
    year = _year(kind)
    if year is None:
        return None, refuse("保障年度尚未设置，暂不能办理社保卡参保", 409)
    return (org, year), None


@bp.route("/")
@access("grassroots")
def index():
    """社保卡参保信息管理: 批次编号, 社保卡参保人数, 提交时间, 最后更新时间, 状态, 参保类型, 操作."""
    org, refused = _grassroots()
    if refused:
        return refused
    return render_page("social/index.html", "rows", **submission_list(social.submissions(org),
                                                                      [enrollment.CENTRAL, enrollment.INSTANT]))


def _screen_context(org, year, kind: str, ptype_id: int = 0) -> dict:
    s = social.screen(org, year)
    types = plans.types_of(year)
    locked = enrollment.locked_type(org, year)
    chosen = locked or next((t for t in types if t.id == ptype_id), None) or (types[0] if types else None)
    on = today()
    mode = social.KINDS[kind]
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
    tab = request.values.get("tab") if request.values.get("tab") in social.TABS else "ready"
    card_filter = normalize(request.values.get("card_status"))
    ids = s.sets[tab]
    if card_filter in CARD_FILTER:
        ids = {pid for pid in ids if (s.checks[pid].card_status if pid in s.checks else "-") == card_filter}
    table = paginate(social.people(ids), per_page=20)
    running = social.latest_check(org)
    pay = plans.window_state(year, "grassroots_pay", org)
    return {"s": s, "year": year, "kind": kind, "title": TITLES[kind], "types": types, "locked": locked,
            "chosen": chosen, "parts": parts, "parts_error": error, "window": window, "tab": tab,
            "tabs": social.TABS, "page": table, "card_filter": card_filter, "card_filters": CARD_FILTER,
            "running": running, "counts": social.COUNTS, "start": start, "end": end, "period": period,
            "hidden_line": social.hidden_line(s), "yuan": yuan, "pay_deadline": pay.ends,
            "hint": social.ABNORMAL_HINT}


@bp.route("/<any(central, instant):kind>", methods=["GET", "POST"])
@access("grassroots")
def screen(kind):
    """参保确认画面 (集中参保办理 / 即时参保办理); POST = ⑤ 提交至上级审核."""
    ctx, refused = _context(kind)
    if refused:
        return refused
    org, year = ctx
    source = request.form if request.method == "POST" else request.args
    ptype_id = int_arg(source.get("type"))
    context = _screen_context(org, year, kind, ptype_id)
    if request.method == "GET":
        return render_page("social/screen.html", "tab" if request.args.get("pane") == "tab" else None, **context)
    chosen = next((t for t in context["types"] if t.id == ptype_id), None)
    ids = form_ids("person")
    error = None
    if chosen is None:
        error = ("请选择保障类型", 422)
    elif context["locked"] and chosen.id != context["locked"].id:
        error = (f"同一保障年度只能选择一个保障类型。本单位已选择「{context['locked'].name}」", 409)
    elif not ids:
        error = ("请在【待提交】中勾选要参保的人员!", 422)
    elif not context["window"].open:
        error = (context["window"].reason, 409)
    if error:
        return render_page("social/screen.html", status=error[1], error=error[0], **context)
    if request.form.get("confirmed") != "1":
        ready = context["s"].sets["ready"]
        return render_page("social/confirm.html", chosen=chosen, kind=kind, title=context["title"],
                           ids=ids, people=list(social.people([i for i in ids if i in ready])), year=year)
    try:
        sub = social.submit(org, year, kind, chosen, ids, acting_account(), today())
    except DomainError as exc:
        return render_page("social/screen.html", status=exc.status, error=exc.message,
                           **_screen_context(org, year, kind, ptype_id))
    return submitted(sub, f"已提交至上级审核：社保卡参保 {sub.count}人，保障类型「{chosen.name}」，状态 区局确认中")


@bp.route("/<any(central, instant):kind>/verify", methods=["POST"])
@access("grassroots")
def verify(kind):
    """① 获取社保卡和就业状态: a background job (a second click while it runs joins the same job)."""
    ctx, refused = _context(kind)
    if refused:
        return refused
    org, year = ctx
    try:
        job, started = social.start_check(org, year, acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash("已开始获取社保卡和就业状态，完成后列表自动刷新" if started else "正在获取社保卡和就业状态，请稍候",
          "success")
    return redirect_to(url_for("social.screen", kind=kind, tab="verify"))


@bp.route("/<any(central, instant):kind>/progress")
@access("grassroots")
def progress(kind):
    """The verification's progress (htmx polls it); when it ends, the page reloads (HX-Refresh)."""
    org, refused = _grassroots()
    if refused:
        return refused
    job = Job.get_or_none((Job.id == int_arg(request.args.get("job"))) & (Job.org == org.id)
                          & (Job.kind == "social_verify"))
    if job is None:
        return refuse("没有这个校验任务", 404)
    response = make_response(render_page("social/screen.html", "progress", running=job, kind=kind))
    if job.finished:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/<any(central, instant):kind>/people/<any(retired, dead, pending, verify, ready, submitted):which>")
@access("grassroots")
def people(kind, which):
    """The people behind a count (可点击下划线查看具体人员)."""
    ctx, refused = _context(kind)
    if refused:
        return refused
    org, year = ctx
    s = social.screen(org, year)
    return render_page("social/people.html", "rows", page=paginate(social.people(s.sets[which])),
                       title=social.LABELS[which], kind=kind, checks=s.checks, year=year)


@bp.route("/<any(central, instant):kind>/pending", methods=["GET", "POST"])
@access("grassroots")
def pending(kind):
    """② 参保待确认名单: 确认 one or 全部确认 (irreversible, asked first)."""
    ctx, refused = _context(kind)
    if refused:
        return refused
    org, year = ctx
    s = social.screen(org, year)
    if request.method == "POST":
        everyone = request.form.get("all") == "1"
        ids = sorted(s.sets["pending"]) if everyone else [i for i in form_ids("person") if i in s.sets["pending"]]
        if not ids:
            return back_to_list("请先勾选要确认的人员（或所选人员已被确认）", url_for("social.pending", kind=kind))
        if request.form.get("confirmed") != "1":
            return render_page("social/pending_confirm.html", people=list(social.people(ids)), everyone=everyone,
                               ids=ids, kind=kind)
        try:
            n = social.confirm(org, year, None if everyone else ids, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        flash(f"已确认{n}人，已自动加入【待提交】且无法移除", "success")
        return redirect_to(url_for("social.pending", kind=kind))
    listed = s.sets["pending"] | (s.sets["confirmed"] & (s.sets["ready"] | s.sets["pending"]))
    return render_page("social/pending.html", "rows", page=paginate(social.people(listed)),
                       confirmed=s.sets["confirmed"], kind=kind, year=year, checks=s.checks)

