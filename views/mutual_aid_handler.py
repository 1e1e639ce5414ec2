"""在职职工互助保障 → 经办人填报: a unit's account (a grassroots union or an enterprise of 企业注册)
fills its handler — 经办人姓名, 经办人手机 (获取验证码, the SMS code), 经办人邮箱 — once its 参保编码
is approved; required before any enrollment. Once filled it is shown (changes: 信息变更申请). The
unions above see their subtree's handlers read-only, the centre all — over
models/mutual_aid/handler_ops.py."""

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from models.base import DomainError, FieldErrors
from models.mutual_aid import code_ops, handler_ops
from models.mutual_aid.codes import InsuranceCode
from models.orgs.accounts import AID_UNIT_ROLES
from models.rules.text import normalize
from views.access import access, acting_account, client_ip, redirect_to, refuse, render_page, scoped
from views.paging import paginate

bp = Blueprint("mutual_aid_handler", __name__, url_prefix="/mutual-aid/handler")

VIEWERS = ("district", "secondary", "centre", "city")
NOT_AID_UNIT = "只有参保单位账号（基层工会或企业注册的单位）可以填报经办人"
FIELDS = {"name": ("经办人姓名", 50), "mobile": ("经办人手机", 20), "email": ("经办人邮箱", 100)}
FILTERS = ("已填报", "未填报")


@bp.route("/", methods=["GET", "POST"])
@access(*AID_UNIT_ROLES, *VIEWERS)
def index():
    """The unit: its handler (the form, or what it filled). The others: the handlers in scope."""
    if current_user.operates_mutual_aid:
        return _unit_page()
    if request.method == "POST":
        return refuse(NOT_AID_UNIT)
    name = normalize(request.args.get("name"))[:100]
    filled = request.args.get("filled", "")
    filled = filled if filled in FILTERS else ""
    query = handler_ops.handlers(scoped(InsuranceCode, current_user), name, filled)
    return render_page("mutual_aid_handler/list.html", "rows", page=paginate(query),
                       f={"name": name, "filled": filled}, filters=FILTERS)


def _unit_page():
    code = code_ops.mine(current_user)
    handler = handler_ops.handler_of(code) if code else None
    values = {name: normalize(request.form.get(name)) for name in FIELDS}  # the model checks lengths
    error, errors, notice, status = None, {}, None, 200
    if request.method == "POST" and (code is None or code.status != code.APPROVED or handler):
        error, status = (handler_ops.FILLED, 409) if handler else ("参保编码审核通过后才能填报经办人", 409)
    elif request.method == "POST" and request.form.get("action") == "sms":
        try:
            sent = handler_ops.send_code(values["mobile"], client_ip())
        except DomainError as exc:
            error, errors, status = exc.message, {"mobile": exc.message.replace("手机号码", "经办人手机")}, exc.status
        else:
            notice = f"验证码已发送至{sent.masked}，{sent.minutes}分钟内有效"
    elif request.method == "POST":
        try:
            handler_ops.save_handler(code, acting_account(), values["name"], values["mobile"], values["email"],
                                     sms_code=request.form.get("sms_code", ""))
        except FieldErrors as exc:
            error, errors, status = exc.message, exc.errors, exc.status
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            flash("经办人信息已保存，可以办理参保", "success")
            return redirect_to(url_for("mutual_aid_handler.index"))
    return render_page("mutual_aid_handler/unit.html", "form", status=status, code=code, handler=handler,
                       values=values, fields=FIELDS, error=error, errors=errors, notice=notice)
