"""管理员快速修复: one page listing the platform admin's audited quick fixes. Each area adds its
own entry to QUICK_FIXES (title, description, endpoint)."""

from flask import Blueprint, flash, redirect, request, url_for

from forms.accounts import FixForm
from models.base import DomainError, FieldErrors
from models.cards import cards
from models.enroll import plans
from models.members import identity_fix, people
from models.mutual_aid import code_ops, years
from models.orgs import account_ops
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.review import enroll_review
from models.rules import cards as card_rules
from models.rules.text import normalize, parse_moment
from views.access import access, acting_account, int_arg, render_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

QUICK_FIXES = [
    ("重置密码", "为账号生成一次性密码（只显示一次），下次登录时须修改。", "admin.reset_password"),
    ("解锁账号", "清除登录失败记录，被锁定的账号可立即重新登录。", "admin.unlock"),
    ("更正会员证件信息", "按证件号码查找会员，更正证件到期日或姓名、性别、出生日期、证件号码。",
     "admin.member_identity"),
    ("更正卡片状态", "按卡号查找会员服务卡，更正卡片状态（正常 / 挂失 / 注销）。", "admin.card_status"),
    ("延长时间窗口", "为一个组织（及其下级）延长某保障年度的某个时间窗口，如集中参保提交截止时间。",
     "admin.extend_window"),
    ("恢复被误退回的参保提交",
     "按单位名称查找被退回的基层参保提交，恢复为“区局确认中”（人员重新参保，回到待审批参保列表）。",
     "admin.restore_submission"),
    ("延长互助保障时间窗口", "为一个参保编码延长在职职工互助保障某年度的集中参保或即时参保时间窗口。",
     "admin.extend_aid_window"),
]


@bp.route("/")
@access("admin")
def index():
    return render_page("admin/index.html", fixes=[(t, d, url_for(e)) for t, d, e in QUICK_FIXES])


def _fix(action: str, title: str):
    """重置密码 / 解锁账号 of any account, by its name (audited with the reason)."""
    form = FixForm()
    if request.method == "POST" and form.validate():
        account = Account.get_or_none(Account.username == form.username.data)
        if account is None:
            form.username.errors = ["没有这个账号"]
        elif action == "reset":
            secret = account_ops.reset_password(account, by=acting_account(), reason=form.reason.data)
            response = render_page("accounts/password.html", account=account, secret=secret, title="重置密码")
            response.headers["Cache-Control"] = "no-store"  # the one-time password: never cached
            return response
        else:
            account_ops.unlock(account, by=acting_account(), reason=form.reason.data)
            flash(f"已解锁账号 {account.username}", "success")
            return redirect(url_for("admin.index"))
    return render_page("admin/fix.html", form=form, title=title,
                       status=422 if request.method == "POST" else 200)


@bp.route("/reset-password", methods=["GET", "POST"])
@access("admin")
def reset_password():
    return _fix("reset", "重置密码")


@bp.route("/unlock", methods=["GET", "POST"])
@access("admin")
def unlock():
    return _fix("unlock", "解锁账号")


# --- 更正会员证件信息 -------------------------------------------------------------------------------
@bp.route("/member-identity", methods=["GET", "POST"])
@access("admin")
def member_identity():
    """更正会员证件信息: find a member by 证件号码, correct the ID expiry or identity fields."""
    source = request.form if request.method == "POST" else request.args
    id_type = source.get("lookup_type") or people.ID_CARD
    number = (source.get("lookup_number") or "").strip()
    person = identity_fix.lookup(id_type, number) if number else None
    errors, values, status = {}, {}, 200
    if number and person is None:
        errors["lookup"] = "未查到该会员信息，请确认证件类型和证件号码"
        status = 200 if request.method == "GET" else 422
    elif person is not None and request.method == "POST":
        values = {k: request.form.get(k, "") for k in identity_fix.FIELDS}
        try:
            fields, detail = identity_fix.correct(person, values, request.form.get("reason"), by=acting_account())
        except FieldErrors as exc:
            errors, status = exc.errors, exc.status
        except DomainError as exc:
            errors["form"], status = exc.message, exc.status
        else:
            flash("已更正会员证件信息：" + "、".join(detail), "success")
            return redirect(url_for("admin.member_identity", lookup_type=fields["id_type"],
                                    lookup_number=fields["id_number"]))
    if person is not None and not values:
        values = {k: identity_fix.text(getattr(person, k)) for k in identity_fix.FIELDS}
    held = identity_fix.memberships(person) if person else []
    return render_page("admin/member_fix.html", person=person, held=held, values=values, errors=errors,
                       lookup_type=id_type, lookup_number=number, id_types=people.ID_TYPES,
                       labels=people.LABELS, reason=request.form.get("reason", ""), status=status)


# --- 更正卡片状态 ---------------------------------------------------------------------------------
@bp.route("/card-status", methods=["GET", "POST"])
@access("admin")
def card_status():
    """更正卡片状态: find a card by its number, set 正常 / 挂失 / 注销 with a reason (audited)."""
    source = request.form if request.method == "POST" else request.args
    raw = (source.get("card_no") or "").strip()
    card, error, status = None, None, 200
    if not raw and int_arg(source.get("card")):  # after a change: by id, no card number in the URL
        card = cards.Card.get_or_none(cards.Card.id == int_arg(source.get("card")))
    if raw:
        try:
            number = card_rules.clean_card_no(raw)
        except ValueError as exc:
            error, status = str(exc), 422
        else:
            card = cards.Card.get_or_none(cards.Card.card_no == number)
            if card is None:
                error, status = "未查到该卡号", 200
    if card is not None and request.method == "POST" and request.form.get("change"):
        try:
            card = cards.set_card_status(card, request.form.get("status", ""), acting_account(),
                                         request.form.get("reason", ""))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"已将卡片状态更正为「{card.status}」", "success")
            return redirect(url_for("admin.card_status", card=card.id))
    return render_page("admin/card_status.html", card=card, card_no=raw, error=error,
                       statuses=cards.CARD_STATUSES, reason=request.form.get("reason", ""), status=status)


# --- 延长时间窗口 ---------------------------------------------------------------------------------
def _extension_posted(windows, target, unknown: str, extend, done):
    """A posted 延长时间窗口 form (the card line's and the mutual-aid line's): the error to show, or
    None once `extend(window, target, ends, account, reason)` has run and `done(...)` is flashed."""
    values = request.form
    window = next((w for w in windows if str(w.id) == values.get("window")), None)
    try:
        ends = parse_moment(values.get("ends", ""), True)
    except ValueError:
        ends = None
    if window is None:
        return "请选择时间窗口"
    if target is None:
        return unknown
    if ends is None:
        return "延长至：时间格式应为 年-月-日 时:分"
    try:
        extend(window, target, ends, acting_account(), values.get("reason", ""))
    except DomainError as exc:
        return exc.message
    flash(done(window, target, ends), "success")
    return None


@bp.route("/extend-window", methods=["GET", "POST"])
@access("admin")
def extend_window():
    """延长时间窗口: keep one window of a year open longer for one organisation (and below)."""
    windows = list(plans.Window.select(plans.Window, plans.ProtectionYear).join(plans.ProtectionYear)
                   .order_by(plans.ProtectionYear.year.desc(), plans.Window.id))
    error, status = None, 200
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        org = Organization.get_or_none(Organization.name == (values.get("org") or "").strip())
        error = _extension_posted(windows, org, "没有这个组织，请填写组织全称", plans.extend_window,
                                  lambda window, org, ends: f"已为「{org.name}」将{window.year.year}年度{window.label}"
                                                            f"延长至 {ends:%Y-%m-%d %H:%M}")
        if error is None:
            return redirect(url_for("admin.extend_window"))
        status = 422
    extensions = list(plans.WindowExtension.select().order_by(plans.WindowExtension.id.desc()).limit(50))
    return render_page("admin/extend_window.html", windows=windows, extensions=extensions, error=error,
                       values=values, status=status)


# --- 恢复被误退回的参保提交 ---------------------------------------------------------------------------
@bp.route("/restore-submission", methods=["GET", "POST"])
@access("admin")
def restore_submission():
    """Reopen a grassroots submission a reviewer returned by mistake (audited, with a reason)."""
    name = normalize(request.values.get("org"))
    error, status = None, 200
    if request.method == "POST":
        sub = enroll_review.returned_submission(request.form.get("submission"))
        if sub is None:
            error, status = "没有这条被退回的参保提交（可能已恢复），请重新查询", 409
        else:
            try:
                enroll_review.restore_returned(sub, acting_account(), request.form.get("reason", ""))
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                flash(f"已恢复「{sub.org.name}」的参保提交（{sub.count}人），状态 区局确认中", "success")
                return redirect(url_for("admin.restore_submission", org=name))
    rows = enroll_review.returned_of(name) if name else []
    return render_page("admin/restore_submission.html", status=status, rows=rows, name=name, error=error)



# --- 延长互助保障时间窗口 -----------------------------------------------------------------------------
@bp.route("/extend-aid-window", methods=["GET", "POST"])
@access("admin")
def extend_aid_window():
    """延长互助保障时间窗口: keep 集中参保 / 即时参保 of a protection year open longer for one insurance
    code (by its 参保编码 or 单位名称), audited with the reason; the window check honours it."""
    windows = years.all_windows()
    error, status = None, 200
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        code = code_ops.find_approved(values.get("code", ""))
        error = _extension_posted(windows, code, "没有这个参保编码（或单位名称），请填写审核通过的参保编码或单位全称",
                                  years.extend_window,
                                  lambda window, code, ends: f"已为「{code.unit_name}」（参保编码{code.code}）将"
                                                             f"{window.year.year}年度{window.kind}"
                                                             f"延长至 {ends:%Y-%m-%d %H:%M}")
        if error is None:
            return redirect(url_for("admin.extend_aid_window"))
        status = 422
    return render_page("admin/extend_aid_window.html", windows=windows, extensions=years.extensions(),
                       error=error, values=values, status=status)
