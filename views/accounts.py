"""账号管理: accounts of the organisations below the account's own — create, disable, enable,
reset password (a random one-time password shown once), unlock. All audited."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from forms.accounts import AccountForm
from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.orgs.accounts import Account, LoginAttempt, random_password
from models.orgs.organizations import Organization
from views.access import access, render_page, superior_of
from views.paging import paginate

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
MANAGERS = ("district", "secondary")


def manages(account: Account) -> bool:
    """The current user may manage `account`: it belongs to an organisation strictly below
    the user's own (the admin manages every account; only the admin manages admins)."""
    if account.is_admin and not current_user.is_admin:
        return False
    return superior_of(current_user, account.org_id)


def _refuse_self(account: Account) -> None:
    if account.id == current_user.id:
        raise DomainError("不能对自己的账号执行此操作", 403)


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
    if org.is_closed:
        raise DomainError(f"「{org.name}」已撤销，不能新增账号", 409)
    form = AccountForm()
    if form.validate():
        secret = random_password()
        account = Account(username=form.username.data, display_name=form.display_name.data or "",
                          org=org.id)
        account.set_password(secret, one_time=True)
        try:
            with db.atomic():
                account.save()
                AuditLog.record("新增账号", account, to_state="正常", detail={"组织": org.name})
        except IntegrityError:
            form.username.errors = ["该账号已存在，请换一个"]
        else:
            return _show_once(account, secret, "新增账号")
    return _index_page(org, form, True, 422)


def _show_once(account, secret, title):
    """The one-time password page: never cached, never logged, never stored in clear."""
    response = render_page("accounts/password.html", account=account, secret=secret, title=title)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:account_id>/<any(disable, enable, reset, unlock):action>", methods=["POST"])
@access(*MANAGERS, objects={"account_id": Account})
def act(account, action):
    """停用 / 启用 / 重置密码 / 解锁."""
    _refuse_self(account)
    if not manages(account):
        raise DomainError("只有上级工会才能管理该账号", 403)
    return apply_fix(account, action, reason=request.form.get("reason", ""),
                     back=url_for("accounts.index", org_id=account.org_id))


def apply_fix(account: Account, action: str, reason: str, back: str):
    """Shared by 账号管理 and the admin page."""
    _refuse_self(account)
    if action == "disable":
        if not account.is_active:
            raise DomainError("该账号已是停用状态", 409)
        with db.atomic():
            Account.update(is_active_flag=False, session_version=Account.session_version + 1).where(
                Account.id == account.id).execute()
            AuditLog.record("停用账号", account, from_state="正常", to_state="已停用", reason=reason)
        flash(f"已停用账号 {account.username}", "success")
    elif action == "enable":
        if account.is_active:
            raise DomainError("该账号已是正常状态", 409)
        if account.org.is_closed:
            raise DomainError(f"「{account.org.name}」已撤销，不能启用其账号", 409)
        with db.atomic():
            Account.update(is_active_flag=True).where(Account.id == account.id).execute()
            AuditLog.record("启用账号", account, from_state="已停用", to_state="正常", reason=reason)
        flash(f"已启用账号 {account.username}", "success")
    elif action == "reset":
        secret = random_password()
        with db.atomic():
            account.set_password(secret, one_time=True)
            account.save()
            LoginAttempt.clear(account.username)
            AuditLog.record("重置密码", account, reason=reason)
        return _show_once(account, secret, "重置密码")
    elif action == "unlock":
        with db.atomic():
            LoginAttempt.clear(account.username)
            AuditLog.record("解锁账号", account, reason=reason)
        flash(f"已解锁账号 {account.username}", "success")
    return redirect(back)
