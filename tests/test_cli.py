"""Command line: flask db upgrade, flask demo, flask backup."""

import sqlite3

from stdnum.cn import ric

from app import backup_sqlite
from models import Account, Membership, Organization
from models.demo import load_demo
from models.rules.uscc import clean_uscc


def test_demo_data_has_every_role_and_valid_numbers():
    accounts = load_demo(password="Demo-pass-1", members=300)
    names = {a[0] for a in accounts}
    assert {"admin", "city", "centre", "district", "secondary", "grassroots"} <= names
    roles = {a[2] for a in accounts}
    assert roles == {"admin", "city", "centre", "district", "secondary", "grassroots"}
    assert Organization.select().where(Organization.level == "grassroots").count() >= 6
    assert Organization.select().where(Organization.is_temporary == True).count() == 3  # noqa: E712
    joint = Organization.get(Organization.name == "南京东路小微企业联合工会")
    assert joint.enterprises.count() >= 2
    assert 280 <= Membership.select().count() <= 320
    for membership in Membership.select().limit(300):
        assert ric.is_valid(membership.person.id_number)
    for org in Organization.select().where(Organization.uscc.is_null(False)):
        assert clean_uscc(org.uscc) == org.uscc
    assert Account.get(Account.username == "admin").check_password("Demo-pass-1")


def test_demo_passwords_are_random_unless_given():
    accounts = load_demo(password=None, members=10)
    passwords = {a[1] for a in accounts}
    assert len(passwords) == len(accounts)
    assert all(len(p) >= 10 for p in passwords)


def test_demo_command_refuses_a_non_empty_database(app, city):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert "数据库已有数据" in result.output


def test_backup_copies_a_live_database(tmp_path):
    source = tmp_path / "live.db"
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
    conn.commit()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (-1)")  # an open, uncommitted write while backing up
    target = tmp_path / "copy.db"
    backup_sqlite(str(source), str(target))
    conn.rollback()
    conn.close()
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*), min(x) FROM t").fetchone() == (1000, 0)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_backup_command(app, tmp_path):
    from tests.conftest import ON_POSTGRES
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.db")])
    if ON_POSTGRES:
        assert "pg_dump" in result.output
    else:
        assert result.exit_code == 0 and (tmp_path / "b.db").exists()
