"""登录 / 退出 / 验证码 / 修改密码.

The captcha is a picture by default; `/login?captcha=question` asks a 文字验证题 instead (a sum in
Chinese words, answered in digits): what a blind operator's screen reader reads out, without
JavaScript. Either is single-use, valid CAPTCHA_SECONDS and kept in the session as a digest of
the answer; the throttling behind it (LoginAttempt) is the same for both."""

import hashlib
import secrets
import time

from captcha.image import ImageCaptcha
from flask import Blueprint, current_app, flash, make_response, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from forms.auth import ChangePasswordForm, LoginForm
from models import notices
from models.base import DomainError
from models.orgs import account_ops
from models.orgs.accounts import LOCK_AFTER, SLOW_AFTER, Account, LoginAttempt
from models.rules.text import compact
from views.access import EVERYONE, access, acting_account, client_ip, local_target, public, render_page

bp = Blueprint("auth", __name__)
CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ23456789"
CAPTCHA_SECONDS = 300
LOCKED = "登录失败次数过多，账号已被锁定15分钟，请稍后再试或联系上级工会解锁"
_images = ImageCaptcha(width=120, height=44, font_sizes=(30, 34, 36))
QUESTION = "question"  # ?captcha=question: the 文字验证题 in place of the picture
_NUMERALS = "零一二三四五六七八九"
REFUSED = {"image": "验证码错误，请重新输入", QUESTION: "验证题答案错误，请回答新的验证题"}
EXPIRED = {"image": "验证码已过期，请刷新验证码后重新输入", QUESTION: "验证题已过期，请回答新的验证题"}


def chinese_number(number: int) -> str:
    """0–99 in Chinese words: 7 → 七, 10 → 十, 15 → 十五, 42 → 四十二."""
    tens, ones = divmod(number, 10)
    if not tens:
        return _NUMERALS[ones]
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


_FROM_WORDS = {chinese_number(n): str(n) for n in range(100)}


def _digest(text: str) -> str:
    key = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{key}:{text.upper()}".encode()).hexdigest()


def _check_captcha(answer: str, kind: str) -> str | None:
    """Error message, or None when the captcha is right. Each captcha is single-use; the kind
    asked now (picture or question) words the message, the one issued decides the answer."""
    saved = session.pop("captcha", None)
    if not saved or time.time() - saved["at"] > CAPTCHA_SECONDS:
        return EXPIRED[kind]
    answer = compact(answer)
    answer = _FROM_WORDS.get(answer, answer)
    if not answer or not secrets.compare_digest(saved["digest"], _digest(answer)):
        return REFUSED[kind]
    return None


def _issue(answer: str) -> None:
    session["captcha"] = {"digest": _digest(answer), "at": time.time()}


def new_captcha_code() -> str:
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(4))


def new_captcha_question() -> tuple[str, int]:
    """A sum or a difference of small numbers in words, and its answer (never negative)."""
    first, second = secrets.randbelow(20) + 1, secrets.randbelow(9) + 1
    if secrets.randbelow(2):
        return f"{chinese_number(first)}加{chinese_number(second)}等于几？", first + second
    first, second = max(first, second), min(first, second)
    return f"{chinese_number(first)}减{chinese_number(second)}等于几？", first - second


@bp.route("/captcha.png")
@public
def captcha():
    code = new_captcha_code()
    _issue(code)
    response = make_response(_images.generate(code, format="png").getvalue())
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "no-store"
    return response


def _submitted(form) -> tuple[bool, str | None, int]:
    """(the form was posted and is valid, the first error of a refused one, the status of the
    page when it is shown again: 422 after a post)."""
    if request.method != "POST":
        return False, None, 200
    if not form.validate():
        return False, next(iter(form.errors.values()))[0], 422
    return True, None, 422


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    kind = QUESTION if request.args.get("captcha") == QUESTION else "image"
    valid, error, status = _submitted(form)
    if valid:
        error = _attempt_login(form, kind)
        if error is None:
            if current_user.must_change_password:
                flash("您正在使用一次性密码，请先设置新密码", "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(local_target(request.args.get("next"), url_for("home.index")))
    if request.method == "POST":
        form.password.data = ""
        form.captcha.data = ""
    captcha_on = current_app.config["LOGIN_CAPTCHA"]
    question = None
    if captcha_on and kind == QUESTION:
        question, answer = new_captcha_question()
        _issue(str(answer))
    return render_page("auth/login.html", form=form, error=error, notices=notices.latest(5),
                       captcha_on=captcha_on, question=question, status=status,
                       nonce=secrets.token_hex(4))


def _attempt_login(form: LoginForm, kind: str) -> str | None:
    username = compact(form.username.data)
    ip = client_ip()
    failures = LoginAttempt.failures(username, ip)
    if failures.locked:
        return LOCKED
    if current_app.config["LOGIN_CAPTCHA"]:
        captcha_error = _check_captcha(form.captcha.data or "", kind)
        if captcha_error:
            return captcha_error
    if failures.slow:
        time.sleep(current_app.config["LOGIN_FAIL_DELAY"])
    account = Account.authenticate(username, form.password.data)
    if account is None:
        LoginAttempt.record(username, ip)
        left = failures.left
        if left <= LOCK_AFTER - SLOW_AFTER:
            return f"账号或密码错误（再失败{left}次将锁定15分钟）" if left > 0 else LOCKED
        return "账号或密码错误"
    if not account.is_active:
        return "该账号已停用，请联系上级工会"
    account_ops.record_login(account, username, ip)
    session.clear()
    login_user(account)
    session.permanent = True
    session["seen"] = session["login_at"] = int(time.time())
    return None


@bp.route("/logout", methods=["POST"])
@access(*EVERYONE)
def logout():
    """退出 ends the session on the server too: a copy of the cookie no longer opens anything."""
    account_ops.log_out(acting_account())
    logout_user()
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@access(*EVERYONE)
def change_password():
    form = ChangePasswordForm()
    valid, error, status = _submitted(form)
    if valid:
        account = acting_account()
        try:
            account_ops.change_password(account, form.old_password.data, form.new_password.data)
        except DomainError as exc:
            # The refusal is the field's: 原密码不正确 under 原密码, the others under 新密码.
            error = exc.message
            (form.old_password if error.startswith("原密码") else form.new_password).errors.append(error)
        else:
            # The session version changed: every other session ends; keep this one.
            login_user(account)
            session["seen"] = int(time.time())
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("home.index"))
    return render_page("auth/password.html", form=form, error=error, status=status)
