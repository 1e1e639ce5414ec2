"""工会会员参保平台 — application factory and command line.

create_app() only wires things: settings from the environment, database, login, CSRF,
blueprints, error pages, security headers and the `flask` commands (db upgrade, demo, backup,
serve, worker).
"""

import logging
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import click
import peewee as pw
from flask import Flask
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from peewee_migrate import Router
from waitress import serve
from werkzeug.middleware.proxy_fix import ProxyFix

import models
import models.schema  # noqa: F401 — every table and job kind
from models import db, demo, jobs, storage
from models.base import Prepared
from models.enroll import status_provider
from models.members import counts
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.rules.fees import yuan
from models.rules.text import install_log_masking, mask, mask_name
from models.stats import tally
from views import register

BASE_DIR = Path(__file__).resolve().parent
log = logging.getLogger("app")
csrf = CSRFProtect()
login_manager = LoginManager()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "off", "false", "no", "")


def _secret_key(instance: Path) -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def scale_out_refusal(config: dict, given: dict) -> str | None:
    """Why JOBS_MODE=redis (several app servers and workers) may not start with these settings, or
    None: each needs the same explicit SECRET_KEY (a key written to one server's instance folder
    is another server's stranger: its cookies bounce to 登录 there) and an explicit STORAGE_DIR
    that exists and can be written (the folder every server and worker shares; the marker in it is
    checked against Redis afterwards: storage.shared_marker_refusal)."""
    if not (given.get("SECRET_KEY") or os.environ.get("SECRET_KEY")):
        return ("JOBS_MODE=redis（多台服务器共用任务队列）必须设置 SECRET_KEY，且每台服务器和工作进程相同："
                "否则各台服务器各自生成密钥，在一台登录后访问另一台会回到登录页")
    if not (given.get("STORAGE_DIR") or os.environ.get("STORAGE_DIR")):
        return ("JOBS_MODE=redis（多台服务器共用任务队列）必须设置 STORAGE_DIR，且为所有服务器和工作进程共用的目录："
                "否则工作进程找不到网站收到的上传文件（“上传的文件已不存在”）")
    return storage.shared_folder_refusal(config["STORAGE_DIR"])


def default_settings(instance: Path) -> dict:
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'app.db'}"),
        "LOGIN_CAPTCHA": _env_bool("LOGIN_CAPTCHA", True),
        "LOGIN_FAIL_DELAY": float(os.environ.get("LOGIN_FAIL_DELAY", "2")),
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        # a login ends after this many hours however active it is (besides the idle timeout)
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "12")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("UPLOAD_MAX_MB", "20")) * 1024 * 1024,
        # 建议清册导入 (the centre's page only): the bureau's file of every payer of the city — a CSV
        # of 2,000,000 people is about 90 MB
        "REGISTRY_UPLOAD_MAX_MB": int(os.environ.get("REGISTRY_UPLOAD_MAX_MB", "300")),
        # Ticked rows of a list posted as multipart (werkzeug's default stops at 1,000 fields).
        "MAX_FORM_PARTS": 50_000,
        "JOBS_MODE": os.environ.get("JOBS_MODE", "sql"),  # sql | redis (several servers) | immediate | memory
        # 批量导入: parse an xlsx in a second process while this one checks its rows (two cores)
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(instance / "storage")),
        # uploaded files (rosters with full ID numbers) are deleted this many days after their job
        # ended, by the hourly sweep (models.jobs.purge_uploads)
        "UPLOAD_RETENTION_DAYS": int(os.environ.get("UPLOAD_RETENTION_DAYS", "30")),
        # 获取社保卡和就业状态: registry (the imported status file) | http (models/enroll/status_provider.py)
        "STATUS_PROVIDER": os.environ.get("STATUS_PROVIDER", "registry"),
        "STATUS_HTTP_URL": os.environ.get("STATUS_HTTP_URL", ""),
        "STATUS_HTTP_TIMEOUT": float(os.environ.get("STATUS_HTTP_TIMEOUT", "10")),
        "STATUS_HTTP_BATCH": int(os.environ.get("STATUS_HTTP_BATCH", "500")),
        "STATUS_HTTP_AUTH": os.environ.get("STATUS_HTTP_AUTH", ""),
        # 获取验证码 (models/sms.py): the SMS gateway (an HTTP POST of JSON); empty = the outbox
        # (instance/outbox/sms-*.txt) and the log show the code (development)
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_KEY": os.environ.get("SMS_GATEWAY_KEY", ""),
        "SMS_GATEWAY_SIGN": os.environ.get("SMS_GATEWAY_SIGN", "【上海工会网上工作平台】"),
        "SMS_GATEWAY_TIMEOUT": float(os.environ.get("SMS_GATEWAY_TIMEOUT", "10")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    }


def create_app(config: dict | None = None) -> Flask:
    instance = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))
    app = Flask(__name__, instance_path=str(instance.resolve()), template_folder="partials",
                static_folder="static")
    app.config.update(default_settings(instance))
    app.config.update(config or {})
    scale_out = app.config["JOBS_MODE"] == "redis"
    if scale_out:  # several servers and workers: one key, one folder — or no start, with the reason
        refused = scale_out_refusal(app.config, config or {})
        if refused:
            raise RuntimeError(refused)
    storage.configure(app.config["STORAGE_DIR"], app.config["UPLOAD_RETENTION_DAYS"])
    status_provider.provider_from_config(app.config)  # a wrong STATUS_* setting stops the start, with its reason
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    # The cookie is renewed when the session changes: every page sets "seen" (views.idle_timeout);
    # files (static, the favicon) leave it alone, so they renew neither the cookie nor the timer.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False

    proxies = int(os.environ.get("TRUSTED_PROXIES", "0"))
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    install_log_masking()
    if not app.config["LOGIN_CAPTCHA"]:
        app.logger.warning("LOGIN_CAPTCHA=off：登录验证码已关闭，仅用于自动化测试，生产环境请勿关闭")

    if app.config.get("CONNECT_DB", True):
        models.connect(app.config["DATABASE_URL"])
    jobs.init_queue(app.config["DATABASE_URL"], app.config["JOBS_MODE"])
    if scale_out:
        huey = jobs.queue()  # the folder's marker against the token the first process kept in Redis
        refused = storage.shared_marker_refusal(app.config["STORAGE_DIR"], huey.storage.conn,
                                                f"union:{huey.name}:storage-marker")
        if refused:
            raise RuntimeError(refused)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    HTMX(app)

    app.jinja_env.filters["yuan"] = yuan
    app.jinja_env.filters["mask"] = mask
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    register(app)
    register_cli(app)
    return app


# its organisation in the same query (every page asks the role, which is the organisation's level);
# composed once (models.base.Prepared: every request runs it)
_ACCOUNT = Prepared(lambda account_id: Account.select(Account, Organization).join(Organization)
                    .where(Account.id == account_id).limit(1), 1)


@login_manager.user_loader
def load_account(token: str):
    try:
        account_id, version = (int(x) for x in token.split(":"))
    except ValueError:
        return None
    account = _ACCOUNT.first(account_id)
    if account is None or account.session_version != version or not account.is_active:
        return None
    return account


# --- command line -------------------------------------------------------------------------------
def upgrade_database(database=None) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    database = database or db.obj
    router = Router(database, migrate_dir=str(BASE_DIR / "migrations"),
                    logger=logging.getLogger("peewee_migrate"))
    pending = list(router.diff)
    if not pending:
        return pending
    sqlite = isinstance(database, pw.SqliteDatabase)
    if sqlite:
        # SQLite changes a column by rebuilding its table (copy, drop, rename); with foreign keys
        # on, dropping a table that others reference fails. The pragma is ignored inside a
        # transaction, so it is switched off around the migrations and the keys checked after.
        database.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        router.run()
    finally:
        if sqlite:
            database.execute_sql("PRAGMA foreign_keys = ON")
    if sqlite:
        broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"迁移后外键检查失败：{broken[:5]}")
    return pending


def backup_sqlite(source: str, target: str) -> None:
    """Consistent copy of a live SQLite database (sqlite3 online backup API)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def register_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """数据库迁移。"""

    @db_group.command("upgrade")
    def db_upgrade():
        """应用尚未执行的数据库迁移（不会重建已有数据库）。"""
        applied = upgrade_database()
        click.echo(f"已应用迁移：{', '.join(applied)}" if applied else "数据库已是最新版本")

    @db_group.command("recount")
    def db_recount():
        """重新统计首页会员数和集中参保实时监控画面的计数（批量写入数据库之后，或计数有误时）。"""
        counts.rebuild()
        tally.rebuild()
        click.echo("已重新统计：首页会员数、集中参保实时监控画面")

    @app.cli.command("demo")
    @click.option("--force", is_flag=True, help="数据库非空时也加载（仅用于空库以外的演示）")
    def demo_cmd(force):
        """数据库为空时加载演示数据，并打印演示账号。"""
        saved = Path(app.instance_path) / "demo-accounts.txt"
        if Organization.select().exists() and not force:
            click.echo("数据库已有数据，未加载演示数据。")
            demo.print_saved_accounts(saved)  # at every start of `make run`
            return
        password = os.environ.get("DEMO_PASSWORD")
        accounts = demo.load_demo(password=password)
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        demo.print_accounts(accounts, saved, password_given=bool(password))

    @app.cli.command("deadlines")
    def deadlines_cmd():
        """缴费截止后将未缴费的集中参保批次标记为失败，发送截止提醒，删除过期的上传文件（工作进程每小时自动执行）。"""
        result = jobs.deadline_sweep()
        click.echo(f"已标记失败：{result['failed'] or '无'}；发送截止提醒：{result['reminded']}条；"
                   f"删除过期上传文件的任务：{result['purged'] or '无'}")

    @app.cli.command("backup")
    @click.argument("path")
    def backup_cmd(path):
        """把正在运行的 SQLite 数据库一致地复制到 PATH（PostgreSQL 请用 pg_dump）。"""
        if models.is_postgres():
            raise click.ClickException("当前数据库是 PostgreSQL，请使用 pg_dump 备份（见 docs/deploy.md）")
        backup_sqlite(db.obj.database, path)
        click.echo(f"已备份到 {path}")

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True)
    @click.option("--parent-pid", type=int, default=None, hidden=True,
                  help="随该进程退出（flask serve 启动的工作进程）")
    def worker_cmd(workers, parent_pid):
        """启动后台任务进程（先把中断的任务重新排队）。"""
        if parent_pid:
            _stop_with_parent(parent_pid)
        jobs.run_worker(workers, echo=click.echo)

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), show_default="5000 或 PORT")
    @click.option("--with-worker/--no-worker", default=True, show_default=True)
    def serve_cmd(host, port, with_worker):
        """用 waitress 启动网站（默认同时启动后台任务进程；网站停止时它也停止）。"""
        worker = None

        def stop(_signum, _frame):
            raise SystemExit(0)  # waitress closes its sockets; the `finally` below stops the worker
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if with_worker and app.config["JOBS_MODE"] in ("sql", "redis"):
            worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker",
                                       "--parent-pid", str(os.getpid())], env=os.environ.copy())
        click.echo(f"网站已启动：http://{host}:{port}/")
        try:
            serve(app, host=host, port=port, threads=8, ident="")
        finally:
            if worker is not None:
                _stop_process(worker)


def _stop_process(process: subprocess.Popen, seconds: float = 10) -> None:
    """SIGTERM (huey stops its consumer), then SIGKILL if it is still running after `seconds`."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    """The worker started by `flask serve` ends when the server is gone however it ended (even
    kill -9, when no handler runs): a daemon thread watches the parent and sends this process
    the SIGTERM that stops huey's consumer."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        log.warning("flask serve（进程 %s）已退出，后台任务进程随之停止", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()

