"""The database handle.

`db` is a peewee DatabaseProxy bound by `connect(url)`: SQLite (WAL, foreign keys on) by default,
PostgreSQL when the URL says postgresql://. Every table is listed in `models.schema.ALL_MODELS`.
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
        # A pool here too: opening a connection and setting its pragmas cost ≈ 1.7 ms of every
        # request (the load test's profile); db.close() at a request's end gives it back.
        size = int(os.environ.get("SQLITE_POOL_SIZE", "16"))
        if size <= 0 or path == ":memory:":
            return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
        from playhouse.pool import PooledSqliteDatabase
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE",
                                    max_connections=size, stale_timeout=300)
    raise ValueError(f"不支持的数据库地址：{url.split(':', 1)[0]}")


def connect(url: str) -> pw.Database:
    database = make_database(url)
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)
