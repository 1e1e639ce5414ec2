"""会员卡参保信息管理 (grassroots, spec 50): the list of the union's submissions in this channel,
参保确认画面-集中参保办理 (counts that open their people, the type lock, 提交至区局审核 through a
confirmation step that works without JavaScript), 集中参保待确认名单, 批次详情, 撤回 and
重新下载集中参保告知书 (PDF), and the instant entries 有卡无保 / 新办卡人员即时参保办理.
"""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user

from models.audit import AuditLog
from models.base import DomainError, now, today, yuan
from models.enroll import card_enroll, enrollment, plans
from models.enroll.enrollment import Submission
from models.rules import fees as rules
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

bp = Blueprint("enroll", __name__, url_prefix="/enroll")
WHICH = {key for key, _ in card_enroll.COUNTS} | {"eligible", "flagged"}
NOTICE_DOWNLOAD = "notice_download"  # session key: the submission whose result page starts the 告知书


def submitted(sub, message: str):
    """After 提交至区局审核 (either channel): the result page (批次详情). For a centralized
    submission it starts downloading the 集中参保告知书 at once, as the manual does — once, so a
    reload does not download again."""
    flash(message, "success")
    if sub.mode == enrollment.CENTRAL:
        session[NOTICE_DOWNLOAD] = sub.id
    return redirect_to(url_for("enroll.submission", submission_id=sub.id))



def central_year():
    """The year being enrolled: next year from October (the centralized season), else this year."""
    on = today()
    return (plans.get_year(on.year + 1) if on.month >= 10 else None) or plans.get_year(on.year)


def _grassroots_only():
    org = current_user.org
    if current_user.is_admin or org.level != "grassroots" or org.is_closed:
        return refuse("只有基层工会可以办理会员卡参保")
    return None


def _season():
    """(the year being enrolled, None), or (None, the refusal) for a non-grassroots account or a
    city whose protection year is not set up."""
    refused = _grassroots_only()
    if refused:
        return None, refused
    year = central_year()
    if year is None:
        return None, refuse("保障年度尚未设置，暂不能办理集中参保", 409)
    return year, None


@bp.route("/card")
@access("grassroots")
def card():
    """会员卡参保信息管理: 批次编号, 会员卡参保人数, 提交时间, 最后更新时间, 状态, 参保类型, 操作."""
    refused = _grassroots_only()
    if refused:
        return refused
    return render_page("enroll/card.html", "rows", **submission_list(
        card_enroll.submissions(current_user.org), [enrollment.CENTRAL, enrollment.HAS_CARD_NO_COVER,
                                                    enrollment.NEW_CARD]))


STATUSES = [enrollment.REVIEWING, enrollment.DONE, enrollment.RETURNED, enrollment.WITHDRAWN, enrollment.FAILED]


def submission_list(query, modes: list) -> dict:
    """A channel's list of the union's submissions with the filters 批次编号, 提交时间, 状态, 参保类型
    (会员卡参保信息管理 and 社保卡参保信息管理)."""
    status = normalize(request.args.get("status"))
    mode = normalize(request.args.get("mode"))
    number = normalize(request.args.get("number")).upper()
    query, dates, errors = submitted_between(query, Submission.submitted_at, request.args)
    if number:
        query = query.where(Submission.district_batch == number)
    if status in STATUSES:
        query = query.where(Submission.status == status)
    if mode in modes:
        query = query.where(Submission.mode == mode)
    return {"page": paginate(query), "status_filter": status, "mode_filter": mode, "number": number,
            "dates": dates, "errors": errors, "status": 422 if errors else 200, "statuses": STATUSES,
            "modes": modes}


def _screen_context(org, year, ptype_id: int = 0, exclude: bool = False) -> dict:
    screen = card_enroll.central_screen(org, year)
    types = plans.types_of(year)
    locked = enrollment.locked_type(org, year)
    chosen = locked or next((t for t in types if t.id == ptype_id), None) or (types[0] if types else None)
    eligible = screen.sets["eligible"] - (screen.sets["flagged"] if exclude else set())
    parts, error = None, None
    if chosen:
        try:
            parts = rules.for_count(plans.parts_for(org, chosen), len(eligible))
        except DomainError as exc:
            error = exc.message
    window = plans.window_state(year, "grassroots", org)
    table = paginate(card_enroll.people(eligible))
    from models.cards.cards import Card
    card_numbers = dict(Card.select(Card.person, Card.card_no).where(
        Card.person.in_([p.id for p in table.items] or [0]) & (Card.status == "正常")).tuples())
    pay = plans.window_state(year, "grassroots_pay", org)
    return {"screen": screen, "year": year, "types": types, "locked": locked, "chosen": chosen,
            "eligible_count": len(eligible), "parts": parts, "parts_error": error, "window": window,
            "counts": card_enroll.COUNTS, "page": table, "card_numbers": card_numbers, "exclude": exclude,
            "yuan": yuan, "pay_deadline": pay.ends, "flagged": screen.sets["flagged"]}


@bp.route("/card/central", methods=["GET", "POST"])
@access("grassroots")
def central():
    """参保确认画面-集中参保办理."""
    year, refused = _season()
    if refused:
        return refused
    org = current_user.org
    source = request.form if request.method == "POST" else request.args
    exclude = source.get("exclude") in ("1", "on")
    ptype_id = int_arg(source.get("type"))
    context = _screen_context(org, year, ptype_id, exclude)
    if request.method == "POST":
        chosen = next((t for t in context["types"] if t.id == ptype_id), None)
        if chosen is None:
            return render_page("enroll/central.html", status=422, error="请选择保障类型", **context)
        if context["locked"] and chosen.id != context["locked"].id:
            return render_page("enroll/central.html", status=409, **context,
                               error=f"同一保障年度只能选择一个保障类型。本单位已选择「{context['locked'].name}」")
        if request.form.get("update") == "1":  # 按所选保障类型和排除条件更新金额 (without JavaScript)
            return render_page("enroll/central.html", error=None, **context)
        if request.form.get("confirmed") != "1":
            return render_page("enroll/central_confirm.html", chosen=chosen, year=year, exclude=exclude,
                               count=context["eligible_count"], token=int(now().timestamp()))
        try:
            sub = card_enroll.central_submit(org, year, chosen, acting_account(), today(), exclude_flagged=exclude)
        except DomainError as exc:
            return render_page("enroll/central.html", status=exc.status, error=exc.message,
                               **_screen_context(org, year, ptype_id, exclude))
        return submitted(sub, f"已提交至区局审核：{sub.count}人，保障类型「{chosen.name}」，状态 区局确认中")
    return render_page("enroll/central.html", error=None, **context)


@bp.route("/card/central/people/<any(" + ", ".join(sorted(WHICH)) + "):which>")
@access("grassroots")
def central_people(which):
    """The people behind one count of the confirmation screen."""
    year, refused = _season()
    if refused:
        return refused
    screen = card_enroll.central_screen(current_user.org, year)
    page = paginate(card_enroll.people(screen.sets[which]))
    return render_page("enroll/people.html", "rows", page=page, title=card_enroll.LABELS[which], year=year,
                       which=which, flagged=screen.sets["flagged"])


@bp.route("/card/pending", methods=["GET", "POST"])
@access("grassroots")
def pending():
    """集中参保待确认名单: 确认 one or 全部确认 (irreversible, asked first)."""
    year, refused = _season()
    if refused:
        return refused
    org = current_user.org
    if request.method == "POST":
        everyone = request.form.get("all") == "1"
        ids = None if everyone else form_ids("person")  # None: everyone still to be confirmed
        if request.form.get("confirmed") != "1":
            # Only people on this union's pending list are shown (a forged id names nobody).
            pending = card_enroll.central_screen(org, year).sets["pending"]
            ids = sorted(pending) if everyone else [pid for pid in ids if pid in pending]
            if not ids:
                return back_to_list("请先勾选要确认的人员（或所选人员已被确认）", url_for("enroll.pending"))
            people = list(card_enroll.people(ids))
            return render_page("enroll/pending_confirm.html", people=people, everyone=everyone, ids=ids)
        try:
            n = card_enroll.confirm(org, year, ids, acting_account())
        except DomainError as exc:
            return refuse(exc.message, exc.status)
        submitted = card_enroll.submissions(org, year).where(Submission.status.in_(enrollment.ACTIVE)).exists()
        hint = "；本单位已提交过集中参保名单，请再次提交集中参保以加入这些会员" if submitted else ""
        flash(f"已确认{n}人，已加入集中参保名单且无法移除{hint}", "success")
        return redirect_to(url_for("enroll.pending"))
    ids, confirmed = card_enroll.pending_list(org, year)
    name, number = normalize(request.args.get("name")), normalize(request.args.get("number")).upper()
    query = card_enroll.people(ids)
    from models.members.people import Membership, Person
    if name:
        query = query.where(Person.name == name)
    if number:
        query = query.where((Person.id_number == number) | (Membership.member_no == number))
    return render_page("enroll/pending.html", "rows", page=paginate(query), confirmed=confirmed, year=year,
                       name=name, number=number)


@bp.route("/submissions/<int:submission_id>")
@access(objects={"submission_id": Submission})
def submission(submission):
    """批次详情: the people and the 操作日志."""
    page = paginate(card_enroll.enrolled_people(submission), per_page=50)
    download = session.get(NOTICE_DOWNLOAD) == submission.id and current_user.org_id == submission.org_id
    if download:
        del session[NOTICE_DOWNLOAD]  # once: a reload does not download again
    return render_page("enroll/submission.html", sub=submission, page=page, download_notice=download,
                       log=AuditLog.for_object(submission).limit(50), yuan=yuan,
                       may_withdraw=submission.status == enrollment.REVIEWING
                       and current_user.org_id == submission.org_id, resubmit=resubmit_url(submission))


def resubmit_url(sub) -> str | None:
    """Where the union submits a returned submission's people again: the channel's screen (社保卡参保:
    ④ 待提交), for the union that submitted it."""
    if sub.status != enrollment.RETURNED or sub.org_id != current_user.org_id:
        return None
    if sub.channel == enrollment.SOCIAL_CHANNEL:
        return url_for("social.screen", kind="central" if sub.mode == enrollment.CENTRAL else "instant", tab="ready")
    if sub.mode == enrollment.CENTRAL:
        return url_for("enroll.central")
    return url_for("enroll.instant", kind="has-card" if sub.mode == enrollment.HAS_CARD_NO_COVER else "new-card")


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
        return render_page("enroll/withdraw_confirm.html", sub=submission, window=window)
    try:
        enrollment.move(submission, "withdraw", acting_account())
    except DomainError as exc:
        return refuse(exc.message, exc.status)
    flash("已撤回该次参保提交，人员可重新提交", "success")
    return redirect(url_for("enroll.card"))


@bp.route("/card/notice")
@access("grassroots")
def notice():
    """重新下载集中参保告知书: the union's notice as it stands after its last submission."""


    from models.enroll import notice_pdf
    year, refused = _season()
    if refused:
        return refused
    if not notice_pdf.grassroots_counts(current_user.org, year)["total"]:
        return refuse("本单位本年度尚未提交集中参保，没有告知书", 409)
    return file_response(notice_pdf.grassroots_notice(current_user.org, year), f"{year.year}年度集中参保告知书.pdf",
                         "application/pdf", slug=f"notice-{year.year}")


INSTANT = {"has-card": enrollment.HAS_CARD_NO_COVER, "new-card": enrollment.NEW_CARD}
INSTANT_TITLES = {"has-card": "有卡无保人员即时参保办理", "new-card": "新办卡人员即时参保办理"}


@bp.route("/card/instant/<any('has-card', 'new-card'):kind>", methods=["GET", "POST"])
@access("grassroots")
def instant(kind):
    """有卡无保 / 新办卡人员即时参保办理 (the current protection year)."""
    from models.enroll import card_enroll as ce
    from models.rules import fees as fee_rules
    refused = _grassroots_only()
    if refused:
        return refused
    on = today()
    year = plans.get_year(on.year)
    if year is None:
        return refuse(f"{on.year}年度尚未设置，暂不能办理即时参保", 409)
    org, mode = current_user.org, INSTANT[kind]
    types = plans.types_of(year)
    locked = enrollment.locked_type(org, year)
    ptype_id = int_arg((request.form if request.method == "POST" else request.args).get("type"))
    chosen = locked or next((t for t in types if t.id == ptype_id), None) or (types[0] if types else None)
    error, status = None, 200
    if request.method == "POST":
        picked = next((t for t in types if t.id == ptype_id), None)
        if picked is None or (locked and picked.id != locked.id):
            error, status = ("请选择保障类型" if picked is None else
                             f"同一保障年度只能选择一个保障类型。本单位已选择「{locked.name}」"), 409
        elif request.form.get("confirmed") != "1":
            return render_page("enroll/instant_confirm.html", chosen=picked, kind=kind, title=INSTANT_TITLES[kind],
                               ids=form_ids("person"))
        else:
            ids = set(form_ids("person")) or None
            try:
                sub = ce.instant_submit(org, year, mode, picked, acting_account(), on, ids)
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
    for person, issued in ce.instant_candidates(org, year, mode, on):
        card_day = max(issued, on) if mode == enrollment.NEW_CARD else None
        try:
            start, end, period = enrollment.coverage(year.year, mode, on, card_day)
        except DomainError as exc:  # the last day of the year: nothing left to cover
            error = error or exc.message
            continue
        rows.append((person, start, end, period))
        if by_period:
            parts.append(by_period[period])
    total = fee_rules.total(parts) if parts else None
    return render_page("enroll/instant.html", status=status, rows=rows, total=total, year=year, types=types,
                       locked=locked, chosen=chosen, error=error, kind=kind, title=INSTANT_TITLES[kind], yuan=yuan,
                       window=plans.window_state(year, "instant", org))
