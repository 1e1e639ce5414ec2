"""获取社保卡和就业状态 in the benchmark city (issue 9): the status lookups of a verification of
10,000 people (2,000 at smoke scale; 90% on record, 10% unknown) —

- against the registry table (RegistryProvider, one query per batch of 5,000), vs the same
  batches as raw SQL;
- against the HTTP reference server (tools/status_server.py --from-db) in a separate process
  (HttpProvider, batches of 500 as STATUS_HTTP_BATCH's default), vs raw POSTs of the same
  batches whose answers are read but not parsed.

The registry rows added for it are deleted again afterwards (a kept city stays the same).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from models import db

ROOT = Path(__file__).resolve().parent.parent
SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
PEOPLE = 2_000 if SMOKE else 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry_rows(numbers: list) -> list:
    """StatusRecord ids added for 90% of `numbers` (those not yet on record)."""
    from models.base import in_values, now, today
    from models.enroll.enrollment import StatusRecord
    on, stamp = today(), now()
    have = {n for (n,) in StatusRecord.select(StatusRecord.id_number)
            .where(in_values(StatusRecord.id_number, numbers)).tuples()}
    cards = ["正常"] * 7 + ["封存", "挂失", "不明确"]
    jobs = ["在职"] * 8 + ["退休", "不明确"]
    rows = [{"id_number": n, "name": f"状态{i}", "card_status": cards[i % 10], "employment": jobs[i // 10 % 10],
             "insurance": "未缴纳" if i % 13 == 0 else "已缴纳", "status_date": on, "updated_at": stamp}
            for i, n in enumerate(numbers) if i % 10 != 9 and n not in have]
    first = (StatusRecord.select(StatusRecord.id).order_by(StatusRecord.id.desc()).scalar() or 0)
    with db.atomic():
        for i in range(0, len(rows), 5_000):
            StatusRecord.insert_many(rows[i:i + 5_000]).execute()
    return [i for (i,) in StatusRecord.select(StatusRecord.id).where(StatusRecord.id > first).tuples()]


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "tools.status_server", "--from-db", "--database", url,
                                "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"http://127.0.0.1:{port}/status"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(address, timeout=1) as response:
                response.read()
            return process, address
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the status reference server did not start") from None
            time.sleep(0.1)


def _time_job(numbers: list, runs: int) -> tuple:
    """The whole background job (social_verify) as the worker runs it: lookups through the
    configured provider and the SocialCheck rows written batch by batch with the checkpoint.
    (median, p95) of `runs` jobs; the rows and jobs are removed afterwards."""
    import statistics

    from models.enroll.social_enroll import SocialCheck
    from models.jobs import Job, run_job
    from models.members.people import Person
    from models.orgs.organizations import Organization
    ids = [i for (i,) in Person.select(Person.id).where(Person.id_number.in_(numbers)).tuples()]
    org = Organization.select().where(Organization.level == "grassroots").first()
    samples, made = [], []
    for _ in range(max(3, min(runs, 5))):
        job = Job.create(kind="social_verify", title="获取社保卡和就业状态", org=org.id,
                         params=json.dumps({"org": org.id, "year": 0, "people": ids}))
        made.append(job.id)
        started = time.perf_counter()
        run_job(job.id)
        samples.append((time.perf_counter() - started) * 1000)
        assert Job.get_by_id(job.id).status == "已完成"
    samples.sort()
    with db.atomic():
        for i in range(0, len(ids), 5_000):
            SocialCheck.delete().where(SocialCheck.person.in_(ids[i:i + 5_000])).execute()
        Job.delete().where(Job.id.in_(made)).execute()
    return statistics.median(samples), samples[-1]


def bench_status_provider(b, info: dict, members: int, timed, repeat: int, url: str) -> None:
    from models.enroll.enrollment import StatusRecord
    from models.enroll.status_provider import HttpProvider, RegistryProvider
    from models.members.people import Person
    numbers = [n for (n,) in Person.select(Person.id_number).where(Person.id_type == "身份证")
               .order_by(Person.id.desc()).limit(PEOPLE).tuples()]
    added = registry_rows(numbers)
    records = b.count("status_record")
    few = max(5, repeat // 10)
    try:
        registry = RegistryProvider()
        results = registry.lookup(numbers)
        assert len(results) == len(numbers) and all(r.ok for r in results.values())
        unknown = sum(1 for r in results.values() if r.reason)
        assert unknown >= len(numbers) // 10 - 1, unknown
        orm = timed(lambda: registry.lookup(numbers), few)
        mark = "%s" if b.kind == "PostgreSQL" else "?"
        where = f"= ANY({mark})" if b.kind == "PostgreSQL" else f"IN (SELECT value FROM json_each({mark}))"
        sql = ('SELECT "id_number", "card_status", "employment", "insurance", "status_date" FROM "status_record" '
               f'WHERE "id_number" {where}')
        size = registry.batch_size

        def raw():
            for i in range(0, len(numbers), size):
                batch = numbers[i:i + size]
                db.execute_sql(sql, (batch if b.kind == "PostgreSQL" else json.dumps(batch),)).fetchall()
        bare = timed(raw, few)
        b.row(f"获取社保卡和就业状态: {len(numbers):,} people against the registry (RegistryProvider, "
              f"batches of {size:,})", records, orm, "p95 ≤ 30000", orm[0] / bare[0])
        b.row(f"  bare baseline: the same {len(numbers) // size + bool(len(numbers) % size)} IN queries, raw SQL",
              records, bare)
        b.row(f"① 获取社保卡和就业状态 job: {len(numbers):,} people, registry, answers saved per batch",
              records, _time_job(numbers, few), "≤ 30000")

        db.close()  # the server reads with its own connections
        process, address = start_server(url)
        try:
            http = HttpProvider(address, timeout=30, batch_size=500)
            answers = http.lookup(numbers)
            assert answers == results, "HTTP and registry answers differ"
            orm = timed(lambda: http.lookup(numbers), few)

            def raw_post():
                for i in range(0, len(numbers), http.batch_size):
                    body = json.dumps({"id_numbers": numbers[i:i + http.batch_size]}).encode()
                    request = urllib.request.Request(address, data=body, method="POST",
                                                     headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(request, timeout=30) as response:
                        response.read()
            bare = timed(raw_post, few)
        finally:
            process.terminate()
            process.wait(10)
        db.connect(reuse_if_open=True)
        b.row(f"获取社保卡和就业状态: {len(numbers):,} people against the HTTP reference server (HttpProvider, "
              "batches of 500, server in its own process reading the registry table)", records, orm,
              "p95 ≤ 60000", orm[0] / bare[0])
        b.row("  bare baseline: raw POSTs of the same batches to the same server (answers read, not parsed)",
              records, bare)
    finally:
        db.connect(reuse_if_open=True)
        with db.atomic():
            for i in range(0, len(added), 5_000):
                StatusRecord.delete().where(StatusRecord.id.in_(added[i:i + 5_000])).execute()
