"""账号管理: accounts of the organisations below the account's own — create, disable, enable,
reset password (a random one-time password shown once), unlock. All audited."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from forms.accounts import AccountForm
from models.base import DomainError, FieldErrors
from models.orgs import account_ops
from models.orgs.accounts import Account, LoginAttempt
from models.orgs.organizations import Organization
from views.access import access, acting_account, render_page, superior_of
from views.paging import paginate

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
MANAGERS = ("district", "secondary")


def manages(account: Account) -> bool:
    """The current user may manage `account`: it belongs to an organisation strictly below
    the user's own (the admin manages every account; only the admin manages admins)."""
    if account.is_admin and not current_user.is_admin:
        return False
    return superior_of(current_user, account.org_id)


@bp.route("/org/<int:org_id>")
@access(*MANAGERS, objects={"org_id": Organization})
def index(org):
    """The accounts of the user's own organisation (to look at) or of one below it (to manage)."""
    return _index_page(org, AccountForm(), superior_of(current_user, org.id))


def _index_page(org, form, can_manage: bool, status: int = 200):
    page = paginate(Account.select().where(Account.org == org.id).order_by(Account.username))
    return render_page("accounts/index.html", "rows", org=org, page=page, form=form, can_manage=can_manage,
                       locked=LoginAttempt.locked_names([a.username for a in page.items]), status=status)


@bp.route("/org/<int:org_id>/new", methods=["POST"])
@access(*MANAGERS, objects={"org_id": Organization})
def create(org):
    """新增账号: with a random one-time password, shown once."""
    if not superior_of(current_user, org.id):
        raise DomainError("只能为下级组织新增账号", 403)
    account_ops.check_can_add(org)
    form = AccountForm()
    if form.validate():
        try:
            account, secret = account_ops.create(org, form.username.data, form.display_name.data)
        except FieldErrors as exc:
            form.username.errors = [exc.errors["username"]]
        else:
            return show_once(account, secret, "新增账号")
    return _index_page(org, form, True, 422)


def show_once(account, secret, title):
    """The one-time password page: never cached, never logged, never stored in clear."""
    response = render_page("accounts/password.html", account=account, secret=secret, title=title)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:account_id>/<any(disable, enable, reset, unlock):action>", methods=["POST"])
@access(*MANAGERS, objects={"account_id": Account})
def act(account, action):
    """停用 / 启用 / 重置密码 / 解锁."""
    by, reason = acting_account(), request.form.get("reason", "")
    account_ops.refuse_self(account, by)
    if not manages(account):
        raise DomainError("只有上级工会才能管理该账号", 403)
    if action == "reset":
        return show_once(account, account_ops.reset_password(account, by=by, reason=reason), "重置密码")
    if action == "disable":
        account_ops.disable(account, by=by, reason=reason)
        flash(f"已停用账号 {account.username}", "success")
    elif action == "enable":
        account_ops.enable(account, by=by, reason=reason)
        flash(f"已启用账号 {account.username}", "success")
    else:
        account_ops.unlock(account, by=by, reason=reason)
        flash(f"已解锁账号 {account.username}", "success")
    return redirect(url_for("accounts.index", org_id=account.org_id))
