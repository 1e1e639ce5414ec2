"""Accounts (账号): who may do what, passwords, the account workflow 正常 ⇄ 已停用, and login
throttling. The audited operations of 账号管理 and of 登录 / 退出 are in models/orgs/account_ops.py."""

import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import peewee as pw
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import BaseModel, DomainError, now
from models.orgs.organizations import Organization
from models.workflow import Workflow

# Throttling (spec 10), counted over 15 minutes: SLOW_AFTER failures for the name (from anywhere)
# or from the IP → the delay (and the captcha, always asked); LOCK_AFTER failures of one name
# from one IP, or from one IP for any names → that IP is locked for 15 minutes; NAME_LOCK_AFTER
# failures of a name from all IPs together → the name is locked for everyone. So failures from
# elsewhere do not lock a clerk out below the name's threshold. Keyed by the name typed, so an
# unknown name behaves exactly like a known one (no account enumeration).
# Roles: the admin is a flag on the account, every other role is its organisation's level.
ROLES = ("admin", "city", "centre", "district", "secondary", "grassroots", "enterprise")
# Every role of the union line (工会): all but "enterprise" — a unit without a union that registered
# itself (企业注册) for 在职职工互助保障 only, which a route must name to let it in.
UNION_LINE_ROLES = tuple(role for role in ROLES if role != "enterprise")
REVIEWING_ROLES = ("district", "secondary")
CITY_WIDE_ROLES = ("admin", "city", "centre")
READ_ONLY_ROLES = ("city",)
UNION_ROLES = ("district", "secondary", "grassroots")  # the unions themselves (not the city, the centre)
CARD_SENDING_ROLES = ("centre", "district")
ORG_APPROVAL_ROLES = ("secondary", "grassroots")  # their organisation changes wait for 组织审核
# The units of the mutual-aid line (在职职工互助保障): a grassroots union, or an enterprise without a
# union that registered itself (企业注册, an organisation of level "enterprise" outside the union tree).
AID_UNIT_ROLES = ("grassroots", "enterprise")
# An account's state (the workflow's words over its is_active column).
ACTIVE, DISABLED = "正常", "已停用"

WINDOW = timedelta(minutes=15)
SLOW_AFTER = 5
LOCK_AFTER = 10
NAME_LOCK_AFTER = 50
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# The passwords tried first (the top of the leaked-password lists, Chinese ones included, and the
# old platform's default abc123456), compared case-insensitively. Short on purpose: the length and
# two-kinds rules already refuse most of a long list.
COMMON_PASSWORDS = frozenset("""
password password1 password12 password123 passw0rd p@ssw0rd p@ssword1 password@123 pass1234
abc12345 abc123456 abc1234567 abcd1234 abcd12345 abc@1234 abc@123456 a1234567 a12345678 a123456789
aa123456 aa12345678 aaa12345 1234abcd 12345abc 123456abc 123456aa 123abc456
12345678 123456789 1234567890 0123456789 87654321 987654321 11111111 00000000 88888888 66666666
12341234 11223344 12344321 5201314520 52013141314 woaini1314 woaini520 iloveyou1 iloveyou
admin123 admin1234 admin888 admin@123 admin12345 administrator root1234 root@123 test1234 test@123
qwerty123 qwerty12 qwertyui qwertyuiop qwer1234 asdf1234 zxcv1234 asdfghjkl zxcvbnm123 1qaz2wsx
1q2w3e4r 1q2w3e4r5t q1w2e3r4 qazwsx123 qwe123456 qweasdzxc 1qaz@wsx zaq12wsx
welcome1 welcome123 changeme1 letmein1 monkey123 dragon123 sunshine1 football1 baseball1
""".split())
# The words under the common passwords once digits, symbols and look-alike digits are set aside
# (Passw0rd! → password, Qwerty123! → qwerty, Shanghai2026 → shanghai).
COMMON_WORDS = frozenset("""
password passwd pass qwerty qwert qwertyui qwertyuiop asdf asdfgh asdfghjkl zxcv zxcvbn zxcvbnm qaz qazwsx
admin administrator root test user guest welcome letmein changeme iloveyou woaini love hello monkey
dragon master sunshine football baseball shanghai beijing china gonghui union abc abcd abcde abcdef
""".split())
LOOK_ALIKE = str.maketrans("013457@$", "oieastas")


def _common_word_decorated(plain: str) -> bool:
    """A common word with only digits and symbols around it, also with look-alike digits read as
    letters (Passw0rd! → password + !, Qwerty123! → qwerty + 123!)."""
    for text in (plain, plain.translate(LOOK_ALIKE)):
        for word in COMMON_WORDS:
            if word in text and not any(c.isalpha() for c in text.replace(word, "", 1)):
                return True
    return False


# scrypt with N=2^14, r=8, p=1 (Django's default; ~40 ms) keeps 登录 under its 100 ms p95 target
# on a 2-core server; every hash stores its own parameters, so raising them later is safe.
# Tests set a cheap method through the environment.
PASSWORD_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:16384:8:1")


def check_password_strength(password: str, username: str = "") -> None:
    """A new password the user chose: long enough, not the account name inside it, not one of
    the common ones, and of at least two kinds of character."""
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"新密码至少{MIN_PASSWORD}位", 422)
    if len(password) > MAX_PASSWORD:
        raise DomainError(f"新密码不能超过{MAX_PASSWORD}位", 422)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or (c.isspace() and c != " ") for c in password):
        raise DomainError("新密码不能包含不可见字符（如零宽字符、制表符、换行）", 422)
    plain = unicodedata.normalize("NFKC", password).casefold()  # full-width ｔｅｓｔ reads as test
    if username and unicodedata.normalize("NFKC", username).casefold() in plain:
        raise DomainError("新密码不能包含账号名", 422)
    if plain in COMMON_PASSWORDS or _common_word_decorated(plain):
        raise DomainError("新密码过于常见，容易被猜中，请换一个", 422)
    kinds = sum([any(c.isdigit() for c in password), any(c.isalpha() for c in password),
                 any(not c.isalnum() for c in password)])
    if kinds < 2:
        raise DomainError("新密码须包含字母、数字、符号中的至少两种", 422)


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked for an unknown name so it costs the same time."""
    return generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


def random_password() -> str:
    """A random one-time password (never a fixed default like the old abc123456)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    while True:
        pw_ = "".join(secrets.choice(alphabet) for _ in range(10))
        if any(c.isdigit() for c in pw_) and any(c.isalpha() for c in pw_):
            return pw_


class Account(UserMixin, BaseModel):
    # 停用 ends every session of the account (its session version moves on in the same update).
    WORKFLOW = Workflow("status", {(ACTIVE, "disable"): DISABLED, (DISABLED, "enable"): ACTIVE},
                        actions={"disable": "停用账号", "enable": "启用账号"})

    username = pw.CharField(max_length=50, unique=True)  # 账号
    display_name = pw.CharField(max_length=50, default="")
    org = pw.ForeignKeyField(Organization, backref="accounts", on_delete="RESTRICT")
    password_hash = pw.CharField(max_length=255)
    is_admin = pw.BooleanField(default=False)  # platform admin: a flag, not an org type
    is_active_flag = pw.BooleanField(default=True, column_name="is_active")
    must_change_password = pw.BooleanField(default=False)
    # Bumped on password change and 退出: every (other) session of this account ends.
    session_version = pw.IntegerField(default=1)
    last_login_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return self.username

    @property
    def is_active(self):
        return self.is_active_flag

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def role(self) -> str:
        return "admin" if self.is_admin else self.org.level

    # --- who may: every role check of the app is one of these names ---------------------------
    @property
    def is_read_only(self) -> bool:
        """市总工会: it looks at everything and writes nothing (spec 05)."""
        return self.role in READ_ONLY_ROLES

    @property
    def sees_whole_city(self) -> bool:
        """The platform admin, 市总工会 and the centre see every organisation."""
        return self.role in CITY_WIDE_ROLES

    @property
    def acts_for_centre(self) -> bool:
        """The centre's decisions (settings, vouchers, batches, claims) — the admin may make them too."""
        return self.is_admin or self.role == "centre"

    @property
    def is_reviewer(self) -> bool:
        """A district or secondary union: reviews its subtree's submissions and requests."""
        return not self.is_admin and self.role in REVIEWING_ROLES

    @property
    def operates_grassroots(self) -> bool:
        """An open grassroots union working for itself (cards, both enrollment channels)."""
        return not self.is_admin and self.org.level == "grassroots" and not self.org.is_closed

    @property
    def operates_mutual_aid(self) -> bool:
        """A mutual-aid unit: applies for its 参保编码, fills its 经办人, builds its rosters and pays."""
        return not self.is_admin and self.org.level in AID_UNIT_ROLES and not self.org.is_closed

    @property
    def is_enterprise_unit(self) -> bool:
        """An account of 企业注册 (a unit without a union, outside the union tree): it sees only
        在职职工互助保障 (and its own 消息提醒, 修改密码, 退出)."""
        return not self.is_admin and self.org.level == "enterprise"

    @property
    def keeps_roster(self) -> bool:
        """An open grassroots or temporary union keeps its own member roster (新增, 导入, 转出)."""
        org = self.org
        return not self.is_admin and (org.level == "grassroots" or org.is_temporary) and not org.is_closed

    @property
    def sees_many_unions(self) -> bool:
        """Its lists span several unions, so they show the 所属工会 column (all but a grassroots union)."""
        return self.role not in AID_UNIT_ROLES

    @property
    def sends_card_batches(self) -> bool:
        """导出报送银行: the centre, a district (its subtree's batches) or the admin."""
        return self.is_admin or self.role in CARD_SENDING_ROLES

    @property
    def decides_member_requests(self) -> bool:
        """会员审核 / 会员转出审核: a union above the member's (district, secondary, grassroots for
        its 分工会) or the admin."""
        return self.is_admin or self.role in UNION_ROLES

    @property
    def is_district_union(self) -> bool:
        """A 区局（产业）工会 itself (not the admin): it pays for its batches (缴费凭证) and decides
        what its subtree's card batches need (导出报送银行, 撤销办卡批次审核)."""
        return not self.is_admin and self.role == "district"

    @property
    def sees_full_numbers(self) -> bool:
        """Full ID and card numbers on detail pages and exports: everyone but the read-only
        市总工会, whose screens and files show them masked (spec 80)."""
        return not self.is_read_only

    @property
    def needs_org_approval(self) -> bool:
        """A secondary or grassroots union: the organisations it adds or changes (and its own
        组织名称 / 统一社会信用代码 / 工会编号) wait for 组织审核; the admin, 市总工会, the centre
        and a district act at once."""
        return self.role in ORG_APPROVAL_ROLES

    @property
    def manages_enterprises(self) -> bool:
        """覆盖企业 新增 / 修改 / 删除 (its own union's or a lower one's): every role but 市总工会 and
        the centre, which read the list only."""
        return self.is_admin or not (self.sees_whole_city or self.is_enterprise_unit)

    def set_password(self, password: str, one_time: bool = False) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        self.must_change_password = one_time
        self.session_version = (self.session_version or 0) + 1

    def end_sessions(self) -> None:
        """Every session of the account ends (退出, 停用): its cookies name the old version."""
        Account.update(session_version=Account.session_version + 1).where(Account.id == self.id).execute()
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @classmethod
    def authenticate(cls, username: str, password: str):
        """The account when the password is right, else None. An unknown name checks the
        password against a dummy hash: both paths cost one hash (no enumeration by timing)."""
        account = cls.get_or_none(cls.username == username)
        if account is None:
            check_password_hash(_dummy_hash(), password)
            return None
        return account if account.check_password(password) else None

    def change_password(self, old: str, new: str) -> None:
        if not self.check_password(old):
            raise DomainError("原密码不正确", 422)
        if old == new:
            raise DomainError("新密码不能与原密码相同", 422)
        check_password_strength(new, self.username)
        self.set_password(new)
        self.save()


class _StatusWord(pw.BooleanField):
    """The is_active column read and written as the account's state word (正常 / 已停用)."""

    def db_value(self, value):
        return super().db_value(value == ACTIVE if isinstance(value, str) else value)

    def python_value(self, value):
        return None if value is None else (ACTIVE if value else DISABLED)


class _Status:
    """`Account.status`: the state word over is_active — on the class a column (for the
    workflow's compare-and-set update and for queries), on an account 正常 or 已停用. Not a field
    of its own: the table keeps its one is_active column (the schema comes from migrations/)."""

    def __init__(self, column):
        self.column = column

    def __get__(self, account, owner):
        if account is None:
            return self.column
        return ACTIVE if account.is_active_flag else DISABLED


_status_column = _StatusWord(column_name="is_active")
_status_column.bind(Account, "status", set_attribute=False)
Account.status = _Status(_status_column)


@dataclass
class Failures:
    """Recent failed logins of one name from one IP (`pair`), of the name from anywhere, and
    from the IP for any name."""

    pair: int
    name: int
    ip: int

    @property
    def locked(self) -> bool:
        return max(self.pair, self.ip) >= LOCK_AFTER or self.name >= NAME_LOCK_AFTER

    @property
    def slow(self) -> bool:
        return max(self.pair, self.name, self.ip) >= SLOW_AFTER

    @property
    def left(self) -> int:
        """Failures this IP has left for the name before it is locked (after the next one)."""
        return min(LOCK_AFTER - max(self.pair, self.ip), NAME_LOCK_AFTER - self.name) - 1


class LoginAttempt(BaseModel):
    """Failed logins, by the account name typed and by IP."""

    username = pw.CharField(max_length=50, index=True)
    ip = pw.CharField(max_length=45, index=True)
    at = pw.DateTimeField(default=now, index=True)

    @classmethod
    def failures(cls, username: str, ip: str) -> "Failures":
        since = now() - WINDOW
        recent = cls.select().where(cls.at > since)
        return Failures(
            pair=recent.where((cls.username == username) & (cls.ip == ip)).count(),
            name=recent.where(cls.username == username).count(),
            ip=recent.where(cls.ip == ip).count())

    @classmethod
    def locked_names(cls, usernames) -> set:
        """The names locked for someone: from one IP (LOCK_AFTER) or for everyone (NAME_LOCK_AFTER)."""
        recent = cls.select(cls.username, pw.fn.COUNT(cls.id).alias("n")).where(
            cls.username.in_(list(usernames)) & (cls.at > now() - WINDOW))
        by_name = {r.username for r in recent.group_by(cls.username) if r.n >= NAME_LOCK_AFTER}
        by_pair = {r.username for r in recent.group_by(cls.username, cls.ip) if r.n >= LOCK_AFTER}
        return by_name | by_pair

    @classmethod
    def record(cls, username: str, ip: str) -> None:
        cls.create(username=username[:50], ip=ip)

    @classmethod
    def clear(cls, username: str, ip: str | None = None) -> None:
        """Forget the name's failures: from one address (a successful login there — failures from
        elsewhere keep counting, so a login of the real clerk does not reset an attacker's count),
        or from everywhere (解锁 by a superior)."""
        query = cls.delete().where(cls.username == username)
        if ip is not None:
            query = query.where(cls.ip == ip)
        query.execute()
