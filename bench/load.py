"""`make bench-load`: the load test of spec 80 / spec 05 — 50 virtual users, 1 s think time,
60 s, 80 % reads / 20 % writes (bench/locustfile.py) against the app served by waitress
(`flask serve`, 8 threads) on the benchmark city, locust headless in its own process.

Database: LOAD_DATABASE_URL, else the kept SQLite city (BENCH_SQLITE, default bench/out/bench.db).
A database without the city gets one first (bench/generate.py + enroll + review; BENCH_SCALE=smoke
for a small one). LOAD_USERS (50), LOAD_SECONDS (60), LOAD_THINK (1), LOAD_PORT (5088).
LOAD_SETTLE (5 s; 0 at smoke scale): the statistics start that long after the last user has
logged in, the logins printed apart. LOAD_PROCESSES=n (default 2, one per core, as
docs/deploy.md runs the app; 1 = `flask serve` itself) serves with n waitress processes sharing one
listening socket (bench/load.py's own launcher; each process its own app and connection pool).
LOAD_PROFILE=file serves with one process whose every request runs under cProfile (timed by each
thread's CPU clock, so a loaded machine does not distort it) and writes the merged profile, with
each route's CPU, to the file at the end (slower than unprofiled: read the proportions).
Prints the per-request table (requests, failures, median, p95, max) and exits non-zero when a
request failed or, at full scale, the aggregate p95 is over 200 ms.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
PORT = int(os.environ.get("LOAD_PORT", "5088"))
SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
# seconds after the last user has logged in before the measured window opens (logins: scrypt,
# ≈ 0.3 s of CPU each); 0 = measure from the first request, logins included
SETTLE = float(os.environ.get("LOAD_SETTLE", "0" if SMOKE else "5"))
TARGET_P95 = 200


def prepare(url: str) -> dict:
    """The city (generated when missing) and the accounts the scenario logs in with."""
    import models
    from app import upgrade_database
    from bench.run import PASSWORD, has_city, kept_city
    from models import db
    from models.enroll.enrollment import Submission
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    from models.review import enroll_review as review
    models.connect(url)
    db.connect(reuse_if_open=True)
    upgrade_database()
    if has_city():
        info = kept_city()
    else:
        from bench.generate import Scale, generate_city
        info = generate_city(Scale.from_env(), PASSWORD)
    from bench.enroll import generate_enrollments
    from bench.review import LOAD_UNIONS, generate_review
    year = generate_enrollments(info)["year"]
    generate_review(info, year)
    district = Organization.get_by_id(info["district"])
    # the queue's unions for the district users to add and remove (each user its own)
    unions = [name for (name,) in (review.pane(district, year, review.CENTRAL_KIND, False)
                                   .select(Organization.name).join(Organization, on=(Submission.org == Organization.id))
                                   .order_by(Submission.id).limit(max(USERS, 1)).tuples())]
    grassroots = [a.username for a in Account.select().where(
        Account.username.in_(["bench-big"] + [f"bench-g{i}" for i in range(1, LOAD_UNIONS + 1)]))]
    db.close()
    return {"password": PASSWORD, "district": "bench-district", "centre": "bench-centre",
            "grassroots": sorted(grassroots), "queue_unions": unions}


def wait_for(port: int, server, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited: {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def main() -> int:
    url = os.environ.get("LOAD_DATABASE_URL") or "sqlite:///" + (
        os.environ.get("BENCH_SQLITE") or str(ROOT / "bench" / "out" / ("load-smoke.db" if SMOKE else "bench.db")))
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    accounts = prepare(url)
    print(f"city ready in {time.perf_counter() - started:.1f} s ({url})", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    (tmp / "accounts.json").write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": url, "LOGIN_CAPTCHA": "off", "LOGIN_FAIL_DELAY": "0",
           "SECRET_KEY": "bench-load", "JOBS_MODE": "immediate", "INSTANCE_PATH": str(tmp / "instance"),
           "FLASK_APP": "app", "LOAD_ACCOUNTS": str(tmp / "accounts.json"),
           "LOAD_SETTLE": str(SETTLE), "LOAD_LOGINS": str(tmp / "logins.json")}
    bin_dir = Path(sys.executable).parent
    processes = int(os.environ.get("LOAD_PROCESSES", "2"))
    profile = os.environ.get("LOAD_PROFILE")  # a file: one process, each request under cProfile
    if profile:
        command = [sys.executable, "-m", "bench.load", "--serve-profiled", str(PORT), profile]
    elif processes == 1:
        command = [str(bin_dir / "flask"), "serve", "--port", str(PORT), "--no-worker"]
    else:
        command = [sys.executable, "-m", "bench.load", "--serve", str(PORT), str(processes)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(tmp / "server.log", "w"))
    try:
        wait_for(PORT, server)
        spawn = max(1, USERS // 5)
        # the users start over USERS / spawn seconds and log in; the statistics are reset SETTLE s
        # after the last login (bench/locustfile.py), so about SECONDS of sustained load are measured
        # (the logins reported apart); the logins of 50 users take ≈ 15 s of one core (scrypt)
        total = SECONDS + (USERS + spawn - 1) // spawn + (int(SETTLE) + USERS // 3 if SETTLE > 0 else 0)
        subprocess.run([str(bin_dir / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(USERS), "-r", str(spawn), "-t", f"{total}s", "--host", f"http://127.0.0.1:{PORT}",
                        "--csv", str(tmp / "load"), "--only-summary", "--loglevel", "WARNING"],
                       cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=open(tmp / "locust.log", "w"))
    finally:
        server.terminate()
        server.wait(timeout=30)
        restore(url, accounts["queue_unions"])
    return report(tmp)


def restore(url: str, unions: list) -> None:
    """Put the district users' unions back into 待审批 (a user stopped mid-toggle leaves its union
    in 待提交), so the kept city's queue stays at its 2,000 rows for bench/review.py."""
    import models
    from models import db
    from models.enroll.enrollment import Submission
    from models.orgs.organizations import Organization
    models.connect(url)
    db.connect(reuse_if_open=True)
    with db.atomic():
        Submission.update(queued_level=None, queued_by=None).where(
            Submission.org.in_(Organization.select(Organization.id).where(Organization.name.in_(unions)))
            & Submission.batch.is_null() & (Submission.status == "区局确认中")).execute()
    db.close()


def _ms(value: str) -> str:
    """A locust figure in whole ms; "N/A" (no request of that name in the window) as "-"."""
    try:
        return f"{float(value):.0f}"
    except ValueError:
        return "-"


def report(tmp: Path) -> int:
    rows = list(csv.DictReader(open(tmp / "load_stats.csv", encoding="utf-8")))
    failures = list(csv.DictReader(open(tmp / "load_failures.csv", encoding="utf-8")))
    print(f"\nload test: {USERS} users, {SECONDS} s, think time {os.environ.get('LOAD_THINK', '1')} s "
          f"(logs in {tmp})")
    logins = tmp / "logins.json"
    if SETTLE > 0 and logins.exists():
        print(f"measured from {SETTLE:.0f} s after the last login; the logins before that:")
        for name, f in json.loads(logins.read_text(encoding="utf-8")).items():
            print(f"  {name}: {f['requests']} requests, {f['failures']} failures, median {f['median']:.0f} ms, "
                  f"p95 {f['p95']:.0f} ms, max {f['max']:.0f} ms")
    print()
    print("| request | requests | failures | median ms | p95 ms | p99 ms | max ms | req/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    aggregate = None
    writes = reads = 0
    for r in rows:
        line = (f"| {r['Name']} | {r['Request Count']} | {r['Failure Count']} | "
                f"{_ms(r['Median Response Time'])} | {_ms(r['95%'])} | {_ms(r['99%'])} | "
                f"{_ms(r['Max Response Time'])} | {float(r['Requests/s']):.1f} |")
        if r["Name"] == "Aggregated":
            aggregate = r
            continue
        print(line)
        if "/login" not in r["Name"]:
            if r["Type"] == "POST":
                writes += int(r["Request Count"])
            else:
                reads += int(r["Request Count"])
    if aggregate is None:
        print("no results (see locust.log)")
        return 1
    print(f"| **all** | {aggregate['Request Count']} | {aggregate['Failure Count']} | "
          f"{float(aggregate['Median Response Time']):.0f} | {float(aggregate['95%']):.0f} | "
          f"{float(aggregate['99%']):.0f} | {float(aggregate['Max Response Time']):.0f} | "
          f"{float(aggregate['Requests/s']):.1f} |")
    total = reads + writes
    print(f"\nwrites {writes} of {total} requests after login ({100 * writes / max(total, 1):.0f} %)")
    for f in failures[:10]:
        print(f"FAILED {f['Method']} {f['Name']} ×{f['Occurrences']}: {f['Error'][:200]}")
    p95 = float(aggregate["95%"])
    bad = int(aggregate["Failure Count"]) > 0 or (not SMOKE and p95 > TARGET_P95)
    if bad:
        print(f"\nTarget missed: 0 errors and p95 ≤ {TARGET_P95} ms (got {aggregate['Failure Count']} errors, "
              f"p95 {p95:.0f} ms)")
    return 1 if bad else 0


def serve_forked(port: int, processes: int) -> None:
    """n waitress processes (8 threads each) accepting on one socket bound here."""
    import signal

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            from waitress import serve

            from app import create_app
            serve(create_app(), sockets=[sock], threads=8, ident="")
            os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(c, signal.SIGTERM) for c in children] and sys.exit(0))
    for c in children:
        os.waitpid(c, 0)


def serve_profiled(port: int, out: str) -> None:
    """One waitress process (8 threads, as `flask serve`) whose every request runs under cProfile
    timed by the thread's own CPU clock (time.thread_time): a C call that releases the GIL counts
    its own work, not the wait for the GIL while other threads run — so the profile is the same on
    a loaded machine. On SIGTERM the merged profile of the whole load run is written to `out`
    (each request's CPU by route, then the functions sorted by own time and by cumulative time)
    and the raw statistics to `out`.pstats."""
    import cProfile
    import io
    import pstats
    import signal
    import threading

    from waitress import serve

    from app import create_app
    app = create_app()
    inner, lock, merged, routes = app.wsgi_app, threading.Lock(), [], {}

    def profiled(environ, start_response):
        profiler = cProfile.Profile(time.thread_time)
        started = time.thread_time()
        profiler.enable()
        try:
            return list(inner(environ, start_response))
        finally:
            profiler.disable()
            cpu = time.thread_time() - started
            route = environ["REQUEST_METHOD"] + " " + environ.get("PATH_INFO", "")
            with lock:
                count, total = routes.get(route, (0, 0.0))
                routes[route] = (count + 1, total + cpu)
                if merged:
                    merged[0].add(profiler)
                else:
                    merged.append(pstats.Stats(profiler))
    app.wsgi_app = profiled

    def write(*_):
        text = io.StringIO()
        total = sum(t for _, t in routes.values()) or 1
        text.write("CPU of the server's threads by route (time.thread_time, profiler on)\n")
        text.write("| route | requests | CPU s | share | CPU ms a request |\n| --- | ---: | ---: | ---: | ---: |\n")
        for route, (count, cpu) in sorted(routes.items(), key=lambda r: -r[1][1]):
            text.write(f"| {route} | {count} | {cpu:.2f} | {cpu * 100 / total:.1f} % | {cpu * 1000 / count:.1f} |\n")
        text.write("\n")
        if merged:
            merged[0].dump_stats(out + ".pstats")
            for order in ("tottime", "cumulative"):
                merged[0].stream = text
                merged[0].sort_stats(order).print_stats(40)
        Path(out).write_text(text.getvalue(), encoding="utf-8")
        os._exit(0)
    signal.signal(signal.SIGTERM, write)
    serve(app, host="127.0.0.1", port=port, threads=8, ident="")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-profiled"]:
        serve_profiled(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    if sys.argv[1:2] == ["--serve"]:
        serve_forked(int(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
