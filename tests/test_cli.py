"""Command line: flask db upgrade, flask demo, flask backup."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from stdnum.cn import ric

from app import backup_sqlite
from models.demo import load_demo
from models.members.people import Membership
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules.uscc import clean_uscc


def test_demo_data_has_every_role_and_valid_numbers():
    accounts = load_demo(password="Demo-pass-1", members=300)
    names = {a[0] for a in accounts}
    assert {"admin", "city", "centre", "district", "secondary", "grassroots"} <= names
    roles = {a[2] for a in accounts}
    assert roles == {"admin", "city", "centre", "district", "secondary", "grassroots", "enterprise"}
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


# --- flask serve: the job worker stops with the server -------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture()
def served(tmp_path):
    """`flask serve` on a free port with a temporary SQLite database and JOBS_MODE=sql:
    yields (server process, worker pid) once the site answers and the worker runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "FLASK_RUN_PORT")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", JOBS_MODE="sql", SECRET_KEY="serve-test",
               INSTANCE_PATH=str(tmp_path / "instance"), STORAGE_DIR=str(tmp_path / "storage"),
               PYTHONUNBUFFERED="1")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen([*flask, "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = [server.pid]
    try:
        def answers():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False
        assert _wait(answers, 60), "flask serve did not answer"
        assert _wait(lambda: _children(server.pid), 30), "no job worker started"
        [worker] = _children(server.pid)
        pids.append(worker)
        yield server, worker
    finally:
        for pid in reversed(pids):  # only what this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_sigterm_to_serve_stops_its_job_worker(served):
    server, worker = served
    assert _alive(worker)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0
    assert _wait(lambda: not _alive(worker), 10), "the job worker outlived flask serve"


def test_the_worker_stops_when_its_server_dies_without_cleaning_up(served):
    server, worker = served
    server.send_signal(signal.SIGKILL)  # no handler runs: the worker notices its parent is gone
    server.wait(timeout=10)
    assert _wait(lambda: not _alive(worker), 15), "the job worker outlived a killed flask serve"


# --- flask demo: the accounts with Chinese role names, printed at every start ---------------------
@pytest.fixture()
def saved_accounts(app):
    path = Path(app.instance_path) / "demo-accounts.txt"
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def _account_rows(output: str) -> dict:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 4:
            rows[parts[0]] = parts[1:]
    return rows


def test_demo_prints_chinese_role_names_and_again_at_every_start_with_demo_password(app, saved_accounts):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"], env={"DEMO_PASSWORD": "Demo-pass-1"})
    assert first.exit_code == 0, first.output
    rows = _account_rows(first.output)
    roles = {name: row[1] for name, row in rows.items()}
    assert roles["grassroots"] == "基层工会" and roles["secondary"] == "二级工会"
    assert roles["district"] == "区局（产业）工会" and roles["centre"] == "市职保中心"
    assert roles["admin"] == "平台管理员" and roles["city"] == "市总工会（只读）"
    assert roles["federation"] == "二级工会（工会联合会）"
    assert not {"grassroots", "secondary", "district", "centre", "city", "admin"} & set(roles.values())
    assert rows["grassroots"][0] == "Demo-pass-1" and rows["grassroots"][2] == "上海新世界百货有限公司工会委员会"
    # every later start (make run) prints them again, whether or not DEMO_PASSWORD is still set
    for env in ({"DEMO_PASSWORD": "Demo-pass-1"}, {"DEMO_PASSWORD": None}):
        again = runner.invoke(args=["demo"], env=env)
        assert "数据库已有数据" in again.output
        assert {name: row[1:] for name, row in _account_rows(again.output).items()} == \
            {name: row[1:] for name, row in rows.items()}
    assert saved_accounts.stat().st_mode & 0o777 == 0o600
    assert "Demo-pass-1" not in saved_accounts.read_text(encoding="utf-8")  # the value stays in the environment


def test_demo_accounts_come_from_the_database_when_no_file_was_saved(app, saved_accounts):
    load_demo(password="Demo-pass-1", members=10)
    output = app.test_cli_runner().invoke(args=["demo"], env={"DEMO_PASSWORD": None}).output
    rows = _account_rows(output)
    assert rows["grassroots"][1:] == ["基层工会", "上海新世界百货有限公司工会委员会"]
    assert len(rows) == Account.select().count()


def test_the_saved_demo_accounts_are_owner_only_from_their_creation(app, saved_accounts, monkeypatch):
    """The file is created owner-readable (0600), never world-readable until a later chmod: with
    every chmod skipped (the process stopped right after writing) it is still 0600; a file left
    world-readable by an older version gets 0600 too."""
    from models import demo
    accounts = load_demo(password="Demo-pass-1", members=10)
    old = os.umask(0o022)
    try:
        monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
        monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
        monkeypatch.setattr(os, "fchmod", lambda *a, **k: None)
        demo.print_accounts(accounts, saved_accounts)
        assert saved_accounts.stat().st_mode & 0o777 == 0o600
        assert "grassroots" in saved_accounts.read_text(encoding="utf-8")
        monkeypatch.undo()
        saved_accounts.chmod(0o644)
        demo.print_accounts(accounts, saved_accounts)
        assert saved_accounts.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
