"""Test fixtures: one database per test session (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), built by the real migrations; each test runs inside a transaction
that is rolled back. Tests that need committed data (thread races, job restarts, the browser)
use the `committed` fixture, which empties every table afterwards."""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="union-test-instance-"))
os.environ.setdefault("STORAGE_DIR", tempfile.mkdtemp(prefix="union-test-storage-"))
if os.environ.get("PYTEST_XDIST_WORKER"):  # each xdist worker its own folder (tests count the files in it)
    os.environ["STORAGE_DIR"] = os.path.join(os.environ["STORAGE_DIR"], os.environ["PYTEST_XDIST_WORKER"])
os.environ["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"  # fast hashing in tests only

import models  # noqa: E402
from app import create_app, upgrade_database  # noqa: E402
from models import db  # noqa: E402
from models.schema import ALL_MODELS
from tests import factories  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
_tmp = Path(tempfile.mkdtemp(prefix="union-test-db-"))
DB_URL = PG_URL or f"sqlite:///{_tmp / 'test.db'}"
ON_POSTGRES = bool(PG_URL)


def reset_schema():
    """Drop everything and rebuild through the migrations (so the migrations are tested too)."""
    if ON_POSTGRES:
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
    else:
        tables = [r[0] for r in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        db.execute_sql("PRAGMA foreign_keys=OFF")
        for table in tables:
            db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
        db.execute_sql("PRAGMA foreign_keys=ON")
    upgrade_database()


def empty_tables():
    if db.in_transaction():
        return
    db.execute_sql('UPDATE "organization" SET "parent_id" = NULL, "district_id" = NULL')
    tables = [m._meta.table_name for m in reversed(ALL_MODELS)]
    for table in tables:
        db.execute_sql(f'DELETE FROM "{table}"')


TEST_CONFIG = {
    "TESTING": True,
    "DATABASE_URL": DB_URL,
    "WTF_CSRF_ENABLED": False,
    "LOGIN_CAPTCHA": False,
    "LOGIN_FAIL_DELAY": 0,
    "JOBS_MODE": "immediate",
    "SECRET_KEY": "test-secret",
}


@pytest.fixture(scope="session")
def app():
    config = dict(TEST_CONFIG, STORAGE_DIR=os.environ["STORAGE_DIR"])
    application = create_app(config)
    db.connect(reuse_if_open=True)
    reset_schema()
    yield application
    if not db.is_closed():
        db.close()


@pytest.fixture(autouse=True)
def transaction(request, app):
    """Every test runs in a transaction rolled back at the end, unless it asks for `committed`."""
    if "committed" in request.fixturenames:
        yield
        return
    db.connect(reuse_if_open=True)
    with db.atomic() as txn:
        yield
        assert_person_copies_in_step()
        txn.rollback()


# membership.person_name / person_gender / person_birth_date copy the person's (migration 030): after
# every test — whatever it wrote, through whichever path — they still equal the person's.
COPIES_OUT_OF_STEP = ('SELECT m."id" FROM "membership" m JOIN "person" p ON p."id" = m."person_id" '
                      'WHERE m."person_name" IS NULL OR m."person_name" <> p."name" '
                      'OR m."person_gender" IS NOT p."gender" OR m."person_birth_date" IS NOT p."birth_date" LIMIT 5')


def assert_person_copies_in_step():
    sql = COPIES_OUT_OF_STEP if not ON_POSTGRES else COPIES_OUT_OF_STEP.replace("IS NOT", "IS DISTINCT FROM")
    try:
        with db.atomic():
            wrong = [r[0] for r in db.execute_sql(sql).fetchall()]
    except models.pw.InternalError:  # the test left its transaction aborted (PostgreSQL): nothing to read
        return
    assert not wrong, f"memberships whose copies of the person's 姓名/性别/出生日期 are out of step: {wrong}"


@pytest.fixture
def committed(app):
    """Real commits (for threads and subprocesses); every table is emptied afterwards."""
    db.connect(reuse_if_open=True)
    empty_tables()
    yield
    from models.jobs import init_queue
    init_queue(DB_URL, "immediate")
    empty_tables()


@pytest.fixture
def city():
    return factories.make_city()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_role(app, city):
    """as_role("district") → a test client logged in as that role's account of the demo city."""
    def make(role, which=0):
        account = city.accounts[role][which]
        test_client = app.test_client()
        factories.login(test_client, account)
        return test_client
    return make


__all__ = ["models", "ON_POSTGRES"]
