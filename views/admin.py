"""管理员快速修复: one page listing the platform admin's audited quick fixes. Each area adds its
own entry to QUICK_FIXES (title, description, endpoint)."""

from flask import Blueprint, request, url_for

from forms.accounts import FixForm
from models import Account
from views.access import access, render_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

QUICK_FIXES = [
    ("重置密码", "为账号生成一次性密码（只显示一次），下次登录时须修改。", "admin.reset_password"),
    ("解锁账号", "清除登录失败记录，被锁定的账号可立即重新登录。", "admin.unlock"),
]


@bp.route("/")
@access("admin")
def index():
    return render_page("admin/index.html", fixes=[(t, d, url_for(e)) for t, d, e in QUICK_FIXES])


def _fix(action: str, title: str):
    from views.accounts import apply_fix
    form = FixForm()
    if request.method == "POST" and form.validate():
        account = Account.get_or_none(Account.username == form.username.data)
        if account is None:
            form.username.errors = ["没有这个账号"]
        else:
            return apply_fix(account, action, reason=form.reason.data, back=url_for("admin.index"))
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
