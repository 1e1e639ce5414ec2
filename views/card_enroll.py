"""会员卡参保信息管理 (grassroots, spec 50): the list of the union's submissions in this channel,
参保确认画面-集中参保办理 (counts that open their people, the type lock, 提交至区局审核 through a
confirmation step that works without JavaScript), 集中参保待确认名单, 批次详情, 撤回 and
重新下载集中参保告知书 (PDF), and the instant entries 有卡无保 / 新办卡人员即时参保办理.
"""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError, now, today
from models.enroll import card_enroll, enrollment, notice_pdf, plans
from models.enroll.enrollment import Submission
from models.rules import fees as rules
from models.rules.fees import yuan
from models.rules.text import normalize
from views.access import (
    access,
    acting_account,
    back_to_list,
    file_response,
    form_ids,
    int_arg,
    redirect_to,
    refuse,
    render_page,
    submitted_between,
)
from views.paging import paginate

bp = Blueprint("card_enroll", __name__, url_prefix="/enroll")
WHICH = {key for key, _ in card_enroll.COUNTS} | {"eligible", "flagged"}
MODES = [enrollment.CENTRAL, enrollment.HAS_CARD_NO_COVER, enrollment.NEW_CARD]
GRASSROOTS = {"may": "operates_grassroots", "refusal": "只有基层工会可以办理会员卡参保"}
NO_YEAR = "保障年度尚未设置，暂不能办理集中参保"


def submitted(sub, message: str):
    """After 提交至区局审核: the result page (批次详情). For a centralized submission it starts
    downloading the 集中参保告知书 at once, as the manual does — once, so a reload does not download
    again."""
    flash(message, "success")
    if sub.mode == enrollment.CENTRAL:
        session[notice_pdf.DOWNLOAD_ONCE] = sub.id
    return redirect_to(url_for("card_enroll.submission", submission_id=sub.id))


@bp.route("/card")
@access("grassroots", **GRASSROOTS)
def card():
    """会员卡参保信息管理: 批次编号, 会员卡参保人数, 提交时间, 最后更新时间, 状态, 参保类型, 操作."""
    query, shown = enrollment.filter_submissions(card_enroll.submissions(current_user.org), request.args, MODES)
    query, dates, errors = submitted_between(query, Submission.submitted_at, request.args)
    return render_page("card_enroll/card.html", "rows", page=paginate(query), dates=dates, errors=errors,
                       status=422 if errors else 200, **shown)


def _screen_context(org, year, ptype_id: int = 0, exclude: bool = False) -> dict:
    screen = card_enroll.central_screen(org, year)
    types, locked, chosen = enrollment.type_choice(org, year, ptype_id)
    eligible = screen.sets["eligible"] - (screen.sets["flagged"] if exclude else set())
    parts, error = None, None
    if chosen:
        try:
            parts = rules.for_count(plans.parts_for(org, chosen), len(eligible))
        except DomainError as exc:
            error = exc.message
    window = plans.window_state(year, "grassroots", org)
    table = paginate(card_enroll.people(eligible))
    card_numbers = card_enroll.card_numbers([p.id for p in table.items])
    pay = plans.window_state(year, "grassroots_pay", org)
    return {"screen": screen, "year": year, "types": types, "locked": locked, "chosen": chosen,
            "eligible_count": len(eligible), "parts": parts, "parts_error": error, "window": window,
            "counts": card_enroll.COUNTS, "page": table, "card_numbers": card_numbers, "exclude": exclude,
            "yuan": yuan, "pay_deadline": pay.ends, "flagged": screen.sets["flagged"]}


@bp.route("/card/central", methods=["GET", "POST"])
@access("grassroots", **GRASSROOTS)
def central():
    """参保确认画面-集中参保办理."""
    year = plans.enrolling_year("central", NO_YEAR)
    org = current_user.org
    source = request.form if request.method == "POST" else request.args
    exclude = source.get("exclude") in ("1", "on")
    ptype_id = int_arg(source.get("type"))
    context = _screen_context(org, year, ptype_id, exclude)
    if request.method == "POST":
        try:
            chosen = enrollment.picked_type(context["types"], context["locked"], ptype_id)
        except DomainError as exc:
            return render_page("card_enroll/central.html", status=exc.status, error=exc.message, **context)
        if request.form.get("update") == "1":  # 按所选保障类型和排除条件更新金额 (without JavaScript)
            return render_page("card_enroll/central.html", error=None, **context)
        if request.form.get("confirmed") != "1":
            return render_page("card_enroll/central_confirm.html", chosen=chosen, year=year, exclude=exclude,
                               count=context["eligible_count"], token=int(now().timestamp()))
        try:
            sub = card_enroll.central_submit(org, year, chosen, acting_account(), today(), exclude_flagged=exclude)
        except DomainError as exc:
            return render_page("card_enroll/central.html", status=exc.status, error=exc.message,
                               **_screen_context(org, year, ptype_id, exclude))
        return submitted(sub, f"已提交至区局审核：{sub.count}人，保障类型「{chosen.name}」，状态 区局确认中")
    return render_page("card_enroll/central.html", error=None, **context)


@bp.route("/card/central/people/<any(" + ", ".join(sorted(WHICH)) + "):which>")
@access("grassroots", **GRASSROOTS)
def central_people(which):
    """The people behind one count of the confirmation screen."""
    year = plans.enrolling_year("central", NO_YEAR)
    screen = card_enroll.central_screen(current_user.org, year)
    page = paginate(card_enroll.people(screen.sets[which]))
    return render_page("card_enroll/people.html", "rows", page=page, title=card_enroll.LABELS[which], year=year,
                       which=which, flagged=screen.sets["flagged"])


@bp.route("/card/pending", methods=["GET", "POST"])
@access("grassroots", **GRASSROOTS)
def pending():
    """集中参保待确认名单: 确认 one or 全部确认 (irreversible, asked first)."""
    year = plans.enrolling_year("central", NO_YEAR)
    org = current_user.org
    if request.method == "POST":
        everyone = request.form.get("all") == "1"
        ids = None if everyone else form_ids("person")  # None: everyone still to be confirmed
        if request.form.get("confirmed") != "1":
            # Only people on this union's pending list are shown (a forged id names nobody).
            pending = card_enroll.central_screen(org, year).sets["pending"]
            ids = sorted(pending) if everyone else [pid for pid in ids if pid in pending]
            if not ids:
                return back_to_list("请先勾选要确认的人员（或所选人员已被确认）", url_for("card_enroll.pending"))
            people = list(card_enroll.people(ids))
            return render_page("card_enroll/pending_confirm.html", people=people, everyone=everyone, ids=ids)
        try:
            n = card_enroll.confirm(org, year, ids, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        submitted = card_enroll.submissions(org, year).where(Submission.status.in_(enrollment.ACTIVE)).exists()
        hint = "；本单位已提交过集中参保名单，请再次提交集中参保以加入这些会员" if submitted else ""
        flash(f"已确认{n}人，已加入集中参保名单且无法移除{hint}", "success")
        return redirect_to(url_for("card_enroll.pending"))
    ids, confirmed = card_enroll.pending_list(org, year)
    name, number = normalize(request.args.get("name")), normalize(request.args.get("number")).upper()
    return render_page("card_enroll/pending.html", "rows", page=paginate(card_enroll.find_people(ids, name, number)),
                       confirmed=confirmed, year=year, name=name, number=number)


@bp.route("/submissions/<int:submission_id>")
@access(objects={"submission_id": Submission})
def submission(submission):
    """批次详情: the people and the 操作日志."""
    page = paginate(card_enroll.enrolled_people(submission), per_page=50)
    download = session.get(notice_pdf.DOWNLOAD_ONCE) == submission.id and current_user.org_id == submission.org_id
    if download:
        del session[notice_pdf.DOWNLOAD_ONCE]  # once: a reload does not download again
    return render_page("card_enroll/submission.html", sub=submission, page=page, download_notice=download,
                       log=AuditLog.for_object(submission).limit(50), yuan=yuan,
                       may_withdraw=submission.status == enrollment.REVIEWING
                       and current_user.org_id == submission.org_id, resubmit=resubmit_url(submission))


def resubmit_url(sub) -> str | None:
    """Where the union submits a returned submission's people again: the channel's screen (社保卡参保:
    ④ 待提交), for the union that submitted it."""
    if sub.status != enrollment.RETURNED or sub.org_id != current_user.org_id:
        return None
    if sub.channel == enrollment.SOCIAL_CHANNEL:
        kind = "central" if sub.mode == enrollment.CENTRAL else "instant"
        return url_for("social_enroll.screen", kind=kind, tab="ready")
    if sub.mode == enrollment.CENTRAL:
        return url_for("card_enroll.central")
    return url_for("card_enroll.instant", kind="has-card" if sub.mode == enrollment.HAS_CARD_NO_COVER else "new-card")


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["POST"])
@access("grassroots", objects={"submission_id": Submission})
def withdraw(submission):
    """撤回 a submission still 区局确认中 (its people are released)."""
    if submission.org_id != current_user.org_id:
        return refuse("只有提交参保的基层工会可以撤回")
    if submission.status != enrollment.REVIEWING:
        return refuse(f"当前状态为「{submission.status}」，不能执行「撤回」", 409)
    if request.form.get("confirmed") != "1":
        # Asked first: the people are released at once, and after the window they cannot be
        # submitted again in this mode.
        kind = "grassroots" if submission.mode == enrollment.CENTRAL else "instant"
        window = plans.window_state(submission.year, kind, current_user.org)
        return render_page("card_enroll/withdraw_confirm.html", sub=submission, window=window)
    try:
        enrollment.move(submission, "withdraw", acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash("已撤回该次参保提交，人员可重新提交", "success")
    return redirect(url_for("card_enroll.card"))


@bp.route("/card/notice")
@access("grassroots", **GRASSROOTS)
def notice():
    """重新下载集中参保告知书: the union's notice as it stands after its last submission."""
    year = plans.enrolling_year("central", NO_YEAR)
    if not notice_pdf.grassroots_counts(current_user.org, year)["total"]:
        return refuse("本单位本年度尚未提交集中参保，没有告知书", 409)
    return file_response(notice_pdf.grassroots_notice(current_user.org, year), f"{year.year}年度集中参保告知书.pdf",
                         "application/pdf", slug=f"notice-{year.year}")


INSTANT = {"has-card": enrollment.HAS_CARD_NO_COVER, "new-card": enrollment.NEW_CARD}
INSTANT_TITLES = {"has-card": "有卡无保人员即时参保办理", "new-card": "新办卡人员即时参保办理"}


@bp.route("/card/instant/<any('has-card', 'new-card'):kind>", methods=["GET", "POST"])
@access("grassroots", **GRASSROOTS)
def instant(kind):
    """有卡无保 / 新办卡人员即时参保办理 (the current protection year)."""
    on = today()
    year = plans.get_year(on.year)
    if year is None:
        return refuse(f"{on.year}年度尚未设置，暂不能办理即时参保", 409)
    org, mode = current_user.org, INSTANT[kind]
    ptype_id = int_arg((request.form if request.method == "POST" else request.args).get("type"))
    types, locked, chosen = enrollment.type_choice(org, year, ptype_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            picked = enrollment.picked_type(types, locked, ptype_id)
        except DomainError as exc:
            error, status = exc.message, 409
        else:
            if request.form.get("confirmed") != "1":
                return render_page("card_enroll/instant_confirm.html", chosen=picked, kind=kind,
                                   title=INSTANT_TITLES[kind], ids=form_ids("person"))
            try:
                sub = card_enroll.instant_submit(org, year, mode, picked, acting_account(), on,
                                                 set(form_ids("person")) or None)
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                return submitted(sub, f"已提交至区局审核：{mode} {sub.count}人，状态 区局确认中")
    rows, parts = [], []
    by_period = None
    if chosen:
        try:
            by_period = plans.parts_by_period(org, chosen)
        except DomainError as exc:
            error = error or exc.message
    for person, issued in card_enroll.instant_candidates(org, year, mode, on):
        card_day = max(issued, on) if mode == enrollment.NEW_CARD else None
        try:
            start, end, period = enrollment.coverage(year.year, mode, on, card_day)
        except DomainError as exc:  # the last day of the year: nothing left to cover
            error = error or exc.message
            continue
        rows.append((person, start, end, period))
        if by_period:
            parts.append(by_period[period])
    total = rules.total(parts) if parts else None
    return render_page("card_enroll/instant.html", status=status, rows=rows, total=total, year=year, types=types,
                       locked=locked, chosen=chosen, error=error, kind=kind, title=INSTANT_TITLES[kind], yuan=yuan,
                       window=plans.window_state(year, "instant", org))
