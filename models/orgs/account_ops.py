"""账号管理's operations (新增, 停用, 启用, 重置密码, 解锁 — by a superior union or the admin's quick
fixes) and the account's own bookkeeping (登录, 退出, 修改密码). Each is one transaction with its
audit row; a refusal is a DomainError with the Chinese reason."""

from peewee import IntegrityError

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, now
from models.orgs.accounts import ACTIVE, DISABLED, Account, LoginAttempt, random_password
from models.workflow import transition

TAKEN = "该账号已存在，请换一个"


def refuse_self(account: Account, by) -> None:
    """Nobody 停用s, 启用s, resets or unlocks their own account."""
    if by is not None and account.id == by.id:
        raise DomainError("不能对自己的账号执行此操作", 403)


def check_can_add(org) -> None:
    """新增账号 is refused for a closed organisation."""
    if org.is_closed:
        raise DomainError(f"「{org.name}」已撤销，不能新增账号", 409)


def create(org, username: str, display_name: str = "") -> tuple[Account, str]:
    """新增账号 with a random one-time password; returns (the account, the password to show once).
    A name already taken is refused as a FieldErrors on `username`."""
    check_can_add(org)
    secret = random_password()
    account = Account(username=username, display_name=display_name or "", org=org.id)
    account.set_password(secret, one_time=True)
    try:
        with db.atomic():
            account.save()
            AuditLog.record("新增账号", account, to_state=ACTIVE, detail={"组织": org.name})
    except IntegrityError:
        raise FieldErrors(TAKEN, {"username": TAKEN}) from None
    return account, secret


def disable(account: Account, by=None, reason: str = "") -> Account:
    """停用: the account can no longer log in, and every session of it ends."""
    refuse_self(account, by)
    if account.status == DISABLED:
        raise DomainError("该账号已是停用状态", 409)
    return transition(account, "disable", account=by, reason=reason,
                      updates={"session_version": Account.session_version + 1})


def enable(account: Account, by=None, reason: str = "") -> Account:
    """启用 a disabled account (not one of a closed organisation)."""
    refuse_self(account, by)
    if account.status == ACTIVE:
        raise DomainError("该账号已是正常状态", 409)
    if account.org.is_closed:
        raise DomainError(f"「{account.org.name}」已撤销，不能启用其账号", 409)
    return transition(account, "enable", account=by, reason=reason)


def reset_password(account: Account, by=None, reason: str = "") -> str:
    """重置密码: a random one-time password (returned, to show once); the failures are forgotten."""
    refuse_self(account, by)
    secret = random_password()
    with db.atomic():
        account.set_password(secret, one_time=True)
        account.save()
        LoginAttempt.clear(account.username)
        AuditLog.record("重置密码", account, reason=reason, account=by)
    return secret


def unlock(account: Account, by=None, reason: str = "") -> None:
    """解锁: the name's failed logins are forgotten, from every address."""
    refuse_self(account, by)
    with db.atomic():
        LoginAttempt.clear(account.username)
        AuditLog.record("解锁账号", account, reason=reason, account=by)


def record_login(account: Account, username: str, ip: str) -> None:
    """登录 succeeded: the failures from this address are forgotten, the time kept, the login logged."""
    with db.atomic():
        LoginAttempt.clear(username, ip)
        Account.update(last_login_at=now()).where(Account.id == account.id).execute()
        AuditLog.record("登录", account, account=account, ip=ip)


def log_out(account: Account) -> None:
    """退出 ends every session of the account on the server (a copied cookie opens nothing)."""
    with db.atomic():
        account.end_sessions()
        AuditLog.record("退出", account)


def change_password(account: Account, old: str, new: str) -> None:
    """修改密码 (the account's own): every other session ends with the new session version."""
    with db.atomic():
        account.change_password(old, new)
        AuditLog.record("修改密码", account)
