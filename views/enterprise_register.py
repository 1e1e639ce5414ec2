"""企业注册 (a link on the login page): a unit without a union registers itself for 在职职工互助保障 —
单位名称, 统一社会信用代码, 经办人姓名, 手机号码 + 获取验证码, 账号 / 密码 — over
models/mutual_aid/registration.py. One plain form: 获取验证码 and 注册 are its two submit buttons,
so it works without JavaScript (the typed values come back; the passwords are never echoed)."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors
from models.mutual_aid import registration
from models.rules.text import normalize
from views.access import client_ip, public, redirect_to, render_page

bp = Blueprint("enterprise_register", __name__)


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    values = {name: normalize(request.form.get(name)) for name in registration.FIELDS}  # the model checks lengths
    error, errors, notice, status = None, {}, None, 200
    action = request.form.get("action")
    if request.method == "POST" and action == "sms":
        try:
            sent = registration.send_code(values["phone"], client_ip())
        except DomainError as exc:
            error, status = exc.message, exc.status
            errors = {"phone": exc.message}
        else:
            notice = f"验证码已发送至{sent.masked}，{sent.minutes}分钟内有效"
    elif request.method == "POST":
        form = {**values, "password": request.form.get("password") or "",
                "password2": request.form.get("password2") or ""}
        try:
            account = registration.register(form, request.form.get("sms_code", ""), client_ip())
        except FieldErrors as exc:
            error, errors, status = exc.message, exc.errors, exc.status
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"注册成功，请使用账号「{account.username}」登录", "success")
            return redirect_to(url_for("auth.login"))
    return render_page("enterprise_register/form.html", "form", status=status, values=values, error=error,
                       errors=errors, notice=notice, fields=registration.FIELDS)
