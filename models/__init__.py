"""Database handle and model registry.

`db` is a peewee DatabaseProxy bound by `connect(url)`: SQLite (WAL, foreign keys on) by default,
PostgreSQL when the URL says postgresql://. ALL_MODELS lists every table in dependency order.
"""

import os

import peewee as pw
from playhouse.db_url import connect as url_connect

db = pw.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


def make_database(url: str) -> pw.Database:
    if url.startswith(("postgres://", "postgresql://")):
        url = url.replace("postgres://", "postgresql://", 1)
        # The planner's default random_page_cost (4) assumes spinning disks: with it PostgreSQL
        # prefers scanning all million people to 5,000 index probes when a union's roster is
        # searched by name (120 ms instead of 6). 1.1 is the usual SSD / cached setting;
        # PG_OPTIONS="" keeps the server's own.
        options = os.environ.get("PG_OPTIONS", "-c random_page_cost=1.1")
        # A pool: every request used to open (and close) its own connection — about 15 ms of a
        # 20 ms page on PostgreSQL. db.close() at the end of a request gives it back instead.
        extra = {"options": options} if options else {}
        size = int(os.environ.get("PG_POOL_SIZE", "32"))
        if size <= 0:  # PG_POOL_SIZE=0: a connection per request (PgBouncer in front, say)
            return url_connect(url, autoconnect=True, **extra)
        pooled = url.replace("postgresql://", "postgresql+pool://", 1)
        return url_connect(pooled, autoconnect=True, max_connections=size, stale_timeout=300, **extra)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # BEGIN IMMEDIATE: a transaction that reads before it writes (add a member: is the person
        # held elsewhere? then insert) takes the write lock up front, so a concurrent writer waits
        # (busy_timeout) instead of failing with "database is locked" at the first write.
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                                 lock_type="IMMEDIATE")
    raise ValueError(f"不支持的数据库地址：{url.split(':', 1)[0]}")


def connect(url: str) -> pw.Database:
    database = make_database(url)
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)


from models.accounts import Account, LoginAttempt  # noqa: E402
from models.audit import AuditLog  # noqa: E402
from models.card_enroll import CardConfirm  # noqa: E402
from models.cards import Card, CardBatch, CardBatchItem, CardPending, CardRevokeRequest  # noqa: E402
from models.claims import Claim  # noqa: E402
from models.enrollment import Enrollment, StatusRecord, Submission, TypeLock  # noqa: E402
from models.jobs import Job, JobChunk  # noqa: E402
from models.members import Counter, MemberChange, Membership, Person, TransferRequest  # noqa: E402
from models.messages import Message, MessageRead  # noqa: E402
from models.notices import Download, Notice  # noqa: E402
from models.org_requests import OrgRequest  # noqa: E402
from models.orgs import Enterprise, Organization, OrgTree  # noqa: E402
from models.plans import Credit, FeeSplit, ProtectionType, ProtectionYear, Window, WindowExtension  # noqa: E402
from models.review import BatchCounter, DistrictBatch, PaymentVoucher, VoucherItem  # noqa: E402
from models.social_enroll import SocialCheck, SocialConfirm  # noqa: E402
from models.stats import MemberDay, OrgMemberCount  # noqa: E402

ALL_MODELS = [Organization, OrgTree, Enterprise, Account, LoginAttempt, AuditLog, Job, Person,
              Membership, OrgMemberCount, MemberDay, Message, MessageRead, Notice, Download,
              OrgRequest, JobChunk, Counter, MemberChange, TransferRequest, CardBatch, Card, CardPending,
              CardBatchItem, CardRevokeRequest, ProtectionYear, ProtectionType, Window, WindowExtension,
              FeeSplit, Credit, DistrictBatch, Submission, Enrollment, TypeLock, StatusRecord, CardConfirm,
              PaymentVoucher, VoucherItem, BatchCounter, Claim, SocialCheck, SocialConfirm]

__all__ = ["db", "connect", "is_postgres", "ALL_MODELS", *[m.__name__ for m in ALL_MODELS]]

import models.audit_export  # noqa: E402,F401 — registers the 导出操作日志 job kind
import models.card_return  # noqa: E402,F401 — the bank's return file (开卡回盘导入)
import models.enroll_stats  # noqa: E402,F401 — registers the 导出参保人员名单 job kind
import models.member_compare  # noqa: E402,F401 — 同步会员
import models.member_import  # noqa: E402,F401 — 批量导入会员
import models.org_import  # noqa: E402,F401 — registers the 组织导入 job kind
import models.status_import  # noqa: E402,F401 — 社保状态导入, 个人参保导入
