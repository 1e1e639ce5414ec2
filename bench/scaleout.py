"""The scale-out proof (spec 80 "Scale beyond one machine"; `.ci/scaleout`, `make scaleout`): on
this machine's PostgreSQL and Redis, the topology of docs/deploy.md section 6 — two app servers
(`flask serve --no-worker`) and one worker (`flask worker`), JOBS_MODE=redis, one SECRET_KEY, one
STORAGE_DIR — and then:

1. processes that would not share one key and one folder refuse to start, saying why: a server
   without SECRET_KEY (and it writes no key of its own), a worker without STORAGE_DIR, a worker
   whose STORAGE_DIR is another folder than the servers';
2. a login on one server is a login on the other (one SECRET_KEY);
3. the load test (bench/locustfile.py's users, plus writers: bench/scaleout_locust.py) spread over
   both servers (each takes at least a quarter of the connections); halfway through, one server is
   killed (SIGKILL) → the other keeps answering (no failed request before the kill, none from GRACE
   seconds after it) and every write that was acknowledged — by either server, before or after
   the kill — is in the database;
4. a 批量导入会员 uploaded to the surviving server (the worker reads it from the shared
   STORAGE_DIR); the worker killed (SIGKILL, with any child process) while the job stages its
   rows → two new workers start at once, one resumes the job and the other never runs it: 已完成,
   run twice in all (开始任务 twice, re-queued once), and RESUMED, not restarted — the job's log of
   runs (written with the staged chunks, models/jobs.JobContext.stage) shows the second run
   starting at the chunk after the first run's last committed one (at or after the checkpoint
   read at the kill), no chunk checked twice, the progress never going back, and the result page
   saying 从第 N 行继续; every row imported once, one 消息提醒;
5. two workers at once, every job queued twice (as a restarted worker's sweep re-queues): each
   job runs once (开始任务 once, attempts 1, 已完成, one 消息提醒), and both workers ran jobs.

nginx is not installed here: a small round-robin TCP proxy (`--proxy`, in this file) stands in for
its upstream block (a new connection goes to the next server; a refused connection to the one
after, like `proxy_next_upstream error`). It is part of the harness, not of the app.

The city: BENCH_SCALE=smoke generated once into the database `scaleout_city` (kept; generated
again only when missing), copied for every run into `scaleout_run` (CREATE DATABASE … TEMPLATE).
Settings: SCALEOUT_PG (postgresql://postgres@127.0.0.1:5432), SCALEOUT_REDIS_URL
(redis://127.0.0.1:6379/8; a queue name of the run's own), SCALEOUT_USERS (20), SCALEOUT_SECONDS
(30), SCALEOUT_IMPORT_ROWS (10000), SCALEOUT_JOBS (10: step 5), SCALEOUT_PORT (5090: the proxy; the
servers the next two).
Exits non-zero, naming the check, when anything is wrong.
"""

import asyncio
import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_PG = os.environ.get("SCALEOUT_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
CITY_DB, RUN_DB = "scaleout_city", "scaleout_run"
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/8")
USERS = int(os.environ.get("SCALEOUT_USERS", "20"))
SECONDS = int(os.environ.get("SCALEOUT_SECONDS", "30"))
ROWS = int(os.environ.get("SCALEOUT_IMPORT_ROWS", "10000"))
JOBS = int(os.environ.get("SCALEOUT_JOBS", "10"))
PROXY = int(os.environ.get("SCALEOUT_PORT", "5090"))
SERVER_A, SERVER_B = PROXY + 1, PROXY + 2
GRACE = 5  # seconds after the kill in which requests caught in flight may fail
IMPORTER = "scaleout-import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

os.environ["BENCH_SCALE"] = "smoke"
os.environ["LOAD_USERS"] = str(USERS)  # bench.load.prepare: a queue union per district user
os.environ["PG_POOL_SIZE"] = "0"  # this script's own connections really close (CREATE DATABASE … TEMPLATE)
BIN = Path(sys.executable).parent


class Failed(Exception):
    pass


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        raise Failed(what)


# --- the databases ---------------------------------------------------------------------------------
def admin(sql: str) -> None:
    import psycopg2
    conn = psycopg2.connect(f"{BASE_PG}/postgres")
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def exists(name: str) -> bool:
    import psycopg2
    conn = psycopg2.connect(f"{BASE_PG}/postgres")
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None
    finally:
        conn.close()


def prepare_city() -> tuple[dict, dict]:
    """The kept city (generated when missing; migrations applied), an account for the import,
    and a fresh copy of it for this run: (the load test's accounts, the import's union)."""
    import models
    from bench.load import prepare
    from models import db
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    if not exists(CITY_DB):
        admin(f'CREATE DATABASE "{CITY_DB}"')
    url = f"{BASE_PG}/{CITY_DB}"
    accounts = prepare(url)
    models.connect(url)
    db.connect(reuse_if_open=True)
    big = Account.get(Account.username == "bench-big").org_id
    union = (Organization.select().where((Organization.level == "grassroots") & (Organization.id != big))
             .order_by(Organization.id.desc()).first())
    if not Account.select().where(Account.username == IMPORTER).exists():
        account = Account(username=IMPORTER, org=union.id)
        account.set_password(accounts["password"])
        account.save()
    target = {"id": union.id, "name": union.name, "union_no": union.union_no}
    db.close()
    admin(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{CITY_DB}"')
    return accounts, target


def run_db():
    import models
    from models import db
    models.connect(f"{BASE_PG}/{RUN_DB}")
    db.connect(reuse_if_open=True)
    return db


# --- the processes ---------------------------------------------------------------------------------
class Topology:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.queue = f"scaleout-{secrets.token_hex(4)}"
        (tmp / "storage").mkdir()
        self.env = {**os.environ, "DATABASE_URL": f"{BASE_PG}/{RUN_DB}", "JOBS_MODE": "redis",
                    "REDIS_URL": REDIS_URL, "REDIS_QUEUE": self.queue, "SECRET_KEY": secrets.token_hex(32),
                    "STORAGE_DIR": str(tmp / "storage"), "LOGIN_CAPTCHA": "off", "LOGIN_FAIL_DELAY": "0",
                    "PG_POOL_SIZE": "10", "FLASK_APP": "app"}
        self.processes: dict = {}

    def start(self, name: str, command: list, drop: tuple = (), **extra) -> subprocess.Popen:
        """`flask <command>` in a session of its own (a kill takes its children too), with an
        instance folder of its own (no key or file is shared except through the settings), less
        the settings named in `drop`."""
        env = {k: v for k, v in {**self.env, "INSTANCE_PATH": str(self.tmp / f"instance-{name}"), **extra}.items()
               if k not in drop}
        process = subprocess.Popen([str(BIN / "flask"), *command], cwd=ROOT, env=env, start_new_session=True,
                                   stdout=open(self.tmp / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)  # the process and any child of it
        process.wait(10)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
        try:
            from huey import RedisHuey
            huey = RedisHuey(self.queue, url=REDIS_URL)
            huey.storage.flush_all()
            huey.storage.conn.delete(f"union:{self.queue}:storage-marker")
        except Exception as exc:  # noqa: BLE001 — cleaning up: say so, do not hide the result
            print(f"(could not empty the Redis queue {self.queue}: {exc})")


def wait_port(port: int, process: subprocess.Popen, seconds: float = 90) -> None:
    from bench.load import wait_for
    wait_for(port, process, seconds)


# --- the stand-in for nginx ------------------------------------------------------------------------
def proxy_main(listen: int, upstreams: list[int], counts_file: str) -> None:
    counts = {str(p): 0 for p in upstreams}
    turn = itertools.count()

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def handle(reader, writer):
        first = next(turn)
        for i in range(len(upstreams)):
            port = upstreams[(first + i) % len(upstreams)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # refused: the next server (proxy_next_upstream error)
            counts[str(port)] += 1
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return
        writer.close()

    async def report():
        while True:
            await asyncio.sleep(1)
            Path(counts_file).write_text(json.dumps(counts))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=1024)
        asyncio.get_running_loop().create_task(report())
        async with server:
            await server.serve_forever()
    asyncio.run(main())


# --- the steps -------------------------------------------------------------------------------------
def csrf(html: str) -> str:
    """The page's csrf_token (not bench.locustfile's parser: importing locust patches the sockets)."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="csrf_token"', html)
    return found.group(1) if found else ""


def login(session, base: str, username: str, password: str) -> None:
    token = csrf(session.get(f"{base}/login").text)
    r = session.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token},
                     allow_redirects=False)
    if r.status_code != 302:
        raise Failed(f"login {username} on {base}: {r.status_code}")


def step_refusals(top: Topology) -> None:
    print("1. processes without the one key and the one folder refuse to start", flush=True)
    own = top.tmp / "own-storage"
    own.mkdir()
    starts = {  # name: (the process, what its log must say)
        "server-no-key": (top.start("server-no-key", ["serve", "--no-worker", "--port", str(PROXY + 3)],
                                    drop=("SECRET_KEY",)), "必须设置 SECRET_KEY"),
        "worker-no-folder": (top.start("worker-no-folder", ["worker"], drop=("STORAGE_DIR",)),
                             "必须设置 STORAGE_DIR"),
        "worker-own-folder": (top.start("worker-own-folder", ["worker"], STORAGE_DIR=str(own)),
                              "没有它们写入的标记文件"),
    }
    for name, (process, reason) in starts.items():
        try:
            code = process.wait(90)
        except subprocess.TimeoutExpired:
            top.kill(name)
            code = None
        said = next((line for line in top.log(name).splitlines() if reason in line), "")
        check(code not in (0, None) and bool(said), f"{name} refuses to start: {said.strip()[:90]}…")
    check(not (top.tmp / "instance-server-no-key" / "secret_key").exists(),
          "the server without SECRET_KEY wrote no key of its own")


def step_one_key(accounts: dict) -> None:
    import requests
    print("2. one SECRET_KEY: a login on server A is a login on server B", flush=True)
    session = requests.Session()
    login(session, f"http://127.0.0.1:{SERVER_A}", accounts["centre"], accounts["password"])
    r = session.get(f"http://127.0.0.1:{SERVER_B}/home", allow_redirects=False)
    check(r.status_code == 200, f"server B answers A's session with 首页 ({r.status_code})")


def step_load(top: Topology, accounts: dict) -> None:
    print(f"3. load test over both servers ({USERS} users, {SECONDS} s); server A killed at {SECONDS // 2} s",
          flush=True)
    (top.tmp / "accounts.json").write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    log = top.tmp / "requests.log"
    env = {**top.env, "LOAD_ACCOUNTS": str(top.tmp / "accounts.json"), "SCALEOUT_LOG": str(log),
           "SCALEOUT_SERVERS": f"http://127.0.0.1:{SERVER_A},http://127.0.0.1:{SERVER_B}"}
    locust = subprocess.Popen([str(BIN / "locust"), "-f", str(ROOT / "bench" / "scaleout_locust.py"), "--headless",
                               "-u", str(USERS), "-r", str(max(1, USERS // 4)), "-t", f"{SECONDS}s",
                               "--host", f"http://127.0.0.1:{PROXY}", "--csv", str(top.tmp / "load"),
                               "--only-summary", "--loglevel", "WARNING"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(top.tmp / "locust.log", "w"))
    started = time.time()
    try:
        time.sleep(SECONDS / 2)
        counts_before = json.loads((top.tmp / "proxy.json").read_text())
        killed_at = time.time()
        top.kill("server-a")
        print(f"   server A killed at {killed_at - started:.1f} s", flush=True)
        locust.wait(SECONDS + 120)
    finally:
        if locust.poll() is None:
            locust.kill()
    rows = [line.rstrip("\n").split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    requests_ = [(float(r[1]), r[2] == "ok", r[3], r[4] if len(r) > 4 else "") for r in rows if r[0] == "R"]
    acked = [(float(r[1]), r[2], r[3]) for r in rows if r[0] == "A"]
    before = [r for r in requests_ if r[0] < killed_at]
    window = [r for r in requests_ if killed_at <= r[0] < killed_at + GRACE]
    after = [r for r in requests_ if r[0] >= killed_at + GRACE]
    print(f"   requests: {len(before)} before the kill, {len(window)} within {GRACE} s of it, {len(after)} after;"
          f" proxy connections before the kill by port: {counts_before}", flush=True)
    for when, _ok, name, error in [r for r in requests_ if not r[1]][:10]:
        print(f"   failed at {when - killed_at:+.1f} s from the kill: {name}: "
              f"{'no answer (connection lost in flight)' if error.strip(': ') in ('', '0') else error}")
    connections = sum(counts_before.values())
    check(connections > 0 and all(n * 4 >= connections for n in counts_before.values()),
          f"the load was spread over both servers before the kill (connections by port: {counts_before})")
    check(before and all(r[1] for r in before), "no failed request before the kill")
    check(len(after) >= USERS and all(r[1] for r in after),
          f"server B keeps answering: every request from {GRACE} s after the kill succeeded")
    a, b = f"http://127.0.0.1:{SERVER_A}", f"http://127.0.0.1:{SERVER_B}"
    on_a = [x for x in acked if x[1] == a]
    check(on_a and all(x[0] < killed_at + 1 for x in on_a),
          f"writes acknowledged by server A before its kill: {len(on_a)}")
    check(any(x[1] == b and x[0] >= killed_at for x in acked), "writes acknowledged by server B after the kill")

    from models.audit import AuditLog
    run_db()
    saved = set()
    for (detail,) in AuditLog.select(AuditLog.detail).where(AuditLog.action == "修改组织信息").tuples():
        change = (json.loads(detail) if detail else {}).get("联系人")
        if change:
            saved.add(change[1])
    missing = [x[2] for x in acked if x[2] not in saved]
    check(not missing, f"every acknowledged write is in the database ({len(acked)} writes; missing: {missing[:5]})")


def job_audits(job_id: int, action: str) -> int:
    from models.audit import AuditLog
    return AuditLog.select().where((AuditLog.object_type == "Job") & (AuditLog.object_id == job_id)
                                   & (AuditLog.action == action)).count()


def worker_of(job) -> str:
    """The worker process that ran the job last: the pid in its claim ("host:pid:random")."""
    return (job.claimed_by or "::").split(":")[1]


def step_worker_killed(top: Topology, accounts: dict, target: dict) -> None:
    import requests

    from bench.files import import_file
    from models.jobs import DONE, FAILED, RUNNING, Job
    from models.members.member_import_check import CHUNK
    from models.members.people import Membership, Person
    from models.messages import Message
    print(f"4. 批量导入会员 of {ROWS:,} rows; the worker killed mid-import, two new ones start at once",
          flush=True)
    path = import_file(top.tmp / "members.xlsx", ROWS, target["name"], target["union_no"])
    chunks = -(-ROWS // CHUNK)
    base = f"http://127.0.0.1:{SERVER_B}"
    session = requests.Session()
    login(session, base, IMPORTER, accounts["password"])
    token = csrf(session.get(f"{base}/members/import").text)
    db = run_db()
    last = Job.select(Job.id).order_by(Job.id.desc()).scalar() or 0
    with open(path, "rb") as f:
        r = session.post(f"{base}/members/import", allow_redirects=False,
                         data={"category": "企业外入会", "csrf_token": token},
                         files={"file": ("members.xlsx", f, XLSX)})
    check(r.status_code in (302, 303), f"the upload is accepted at once ({r.status_code})")
    job_id = Job.select(Job.id).where((Job.id > last) & (Job.kind == "member_import")).scalar()
    check(job_id is not None, "the job is queued")
    deadline = time.time() + 180
    job = None
    while time.time() < deadline:
        job = Job.get_by_id(job_id)
        checkpoint = json.loads(job.checkpoint or "{}")
        if job.status == RUNNING and checkpoint.get("chunks", 0) >= 1 and not checkpoint.get("applied"):
            break
        if job.status in (DONE, FAILED):
            break
        time.sleep(0.01)
    check(job is not None and job.status == RUNNING,
          f"the worker is staging the rows ({job and job.status}, checkpoint {job and job.checkpoint})")
    top.kill("worker-1")
    killed = Job.get_by_id(job_id)
    at_kill = json.loads(killed.checkpoint or "{}").get("chunks", 0)
    print(f"   worker 1 killed at {killed.progress_done:,} of {killed.progress_total:,} rows, "
          f"{at_kill} of {chunks} chunks staged", flush=True)
    check(killed.status == RUNNING, "the database still says 运行中 (nobody told it)")
    check(0 < at_kill < chunks, f"killed halfway: {at_kill} of {chunks} chunks staged")
    top.start("worker-2", ["worker", "--workers", "1"])
    top.start("worker-3", ["worker", "--workers", "1"])
    deadline = time.time() + 300
    progress = [killed.progress_done]
    while time.time() < deadline:
        job = Job.get_by_id(job_id)
        progress.append(job.progress_done)
        if job.status in (DONE, FAILED):
            break
        time.sleep(0.1)
    print(f"   job {job.status} (worker pid {worker_of(job)}): {job.result_data.get('summary', '')} {job.errors}",
          flush=True)
    check(job.status == DONE, f"a new worker finished the job ({job.status})")
    check(job.attempts == 2 and job_audits(job_id, "开始任务") == 2,
          f"run twice in all: by worker 1, then by ONE of the two new workers (attempts {job.attempts}, "
          f"开始任务 {job_audits(job_id, '开始任务')})")
    check(job_audits(job_id, "任务中断后重新排队") == 1,
          f"re-queued once ({job_audits(job_id, '任务中断后重新排队')})")
    check(progress == sorted(progress), f"the progress never went back (from {killed.progress_done:,}: "
          f"{', '.join(f'{p:,}' for p in sorted(set(progress))[:12])}…)")
    runs = job.result_data.get("runs") or []
    print(f"   runs: {runs}", flush=True)
    check(len(runs) == 2 and [r.get("attempt") for r in runs] == [1, 2], "two runs in the job's log (attempts 1, 2)")
    first, second = runs
    check(first["chunks"][0] == 0 and second["chunks"] == [first["chunks"][1], chunks],
          f"the second run staged chunks {second['chunks'][0] + 1}–{chunks} only: it went on from the first "
          f"run's last committed chunk ({first['chunks'][1]}), no chunk checked or staged twice")
    check(second["chunks"][0] >= at_kill,
          f"resumed at or after the checkpoint read at the kill (chunk {second['chunks'][0] + 1} ≥ {at_kill + 1})")
    check(second["rows"] == [first["rows"][1] + 1, ROWS + 1],
          f"rows {first['rows'][0]}–{first['rows'][1]} checked once by the first run, "
          f"{second['rows'][0]}–{second['rows'][1]} by the second")
    note = re.search(r'class="muted job-runs">([^<]*)<', session.get(f"{base}/members/import/{job_id}").text)
    check(bool(note) and f"从第{second['rows'][0]}行继续" in note.group(1),
          f"the result page says so: {note.group(1) if note else '(no note)'}")
    added = job.result_data.get("added")
    check(added == ROWS, f"the result counts {ROWS:,} members added ({added})")
    imported = (Membership.select(Person.id_number).join(Person)
                .where((Membership.org == target["id"]) & Person.name.startswith("新会员")))
    numbers = [n for (n,) in imported.tuples()]
    check(len(numbers) == ROWS and len(set(numbers)) == ROWS,
          f"every row imported exactly once ({len(numbers):,} memberships, {len(set(numbers)):,} people)")
    notices = Message.select().where(Message.link == f"/jobs/{job_id}").count()
    check(notices == 1, f"one 消息提醒 of the finished job ({notices})")
    db.close()


def step_two_workers(top: Topology) -> None:
    """Two live workers (worker-2, worker-3), JOBS 导出操作日志 jobs each queued twice."""
    from models.jobs import DONE, FAILED, Job, enqueue, init_queue
    from models.messages import Message
    from models.orgs.accounts import Account
    print(f"5. two workers at once, {JOBS} jobs each queued twice", flush=True)
    os.environ.update(REDIS_URL=REDIS_URL, REDIS_QUEUE=top.queue)
    db = run_db()
    init_queue(f"{BASE_PG}/{RUN_DB}", "redis")
    account = Account.get(Account.username == IMPORTER)
    ids = []
    for _ in range(JOBS):
        job = Job.submit("audit_export", {"action": "修改组织信息"}, account=account)
        enqueue(job.id)  # the same job a second time, as a restarted worker's sweep re-queues it
        ids.append(job.id)
    deadline = time.time() + 180
    while time.time() < deadline:
        if Job.select().where(Job.id.in_(ids) & Job.status.in_([DONE, FAILED])).count() == len(ids):
            break
        time.sleep(0.2)
    jobs = list(Job.select().where(Job.id.in_(ids)).order_by(Job.id))
    by_worker: dict = {}
    for job in jobs:
        by_worker[worker_of(job)] = by_worker.get(worker_of(job), 0) + 1
    print(f"   jobs by worker pid: {by_worker}", flush=True)
    check(all(j.status == DONE for j in jobs), f"every job 已完成 ({[j.status for j in jobs]})")
    started = [job_audits(j.id, "开始任务") for j in jobs]
    check(all(j.attempts == 1 for j in jobs) and started == [1] * len(jobs),
          f"each job run once: attempts {[j.attempts for j in jobs]}, 开始任务 {started}")
    notices = [Message.select().where(Message.link == f"/jobs/{j.id}").count() for j in jobs]
    check(notices == [1] * len(jobs), f"one 消息提醒 a job ({notices})")
    check(len(by_worker) == 2, "both workers ran jobs (they really competed)")
    db.close()


def main() -> int:
    started = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="scaleout-"))
    print(f"scale-out proof on PostgreSQL ({BASE_PG}) and Redis ({REDIS_URL}); logs in {tmp}", flush=True)
    accounts, target = prepare_city()
    print(f"city ready in {time.time() - started:.0f} s", flush=True)
    top = Topology(tmp)
    try:
        a = top.start("server-a", ["serve", "--no-worker", "--port", str(SERVER_A)])
        wait_port(SERVER_A, a)  # the first to start marks the shared folder
        b = top.start("server-b", ["serve", "--no-worker", "--port", str(SERVER_B)])
        top.start("worker-1", ["worker", "--workers", "1"])
        wait_port(SERVER_B, b)
        top.processes["proxy"] = subprocess.Popen(
            [sys.executable, "-m", "bench.scaleout", "--proxy", str(PROXY), str(SERVER_A), str(SERVER_B),
             str(tmp / "proxy.json")], cwd=ROOT, start_new_session=True,
            stdout=open(tmp / "proxy.log", "w"), stderr=subprocess.STDOUT)
        wait_port(PROXY, top.processes["proxy"])
        step_refusals(top)
        step_one_key(accounts)
        step_load(top, accounts)
        step_worker_killed(top, accounts, target)
        step_two_workers(top)
    except Failed as exc:
        print(f"\nscale-out proof FAILED: {exc} (logs in {tmp})")
        return 1
    finally:
        top.stop_all()
    print(f"\nscale-out proof passed in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        proxy_main(int(sys.argv[2]), [int(sys.argv[3]), int(sys.argv[4])], sys.argv[5])
        sys.exit(0)
    sys.exit(main())
