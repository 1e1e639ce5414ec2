"""上传本地参保名单文件 end to end in the benchmark city (issue 18, Performance): a 50,000-row roster
(2,000 at smoke scale) in the template's columns (models/mutual_aid/roster_import.py), written by
openpyxl's normal mode (shared strings, as Excel writes), the big unions' members — so every row
is in the 会员库 and in the 2,000,000-payer 建议清册 (one in fifty under another 社保姓名, one in
twenty 退休) — POSTed to the upload page of a 清册待校验 batch (JOBS_MODE=immediate: the job runs
inside the request — the reader process, the checks, the 建议清册 and 会员库 lookups, the rows
written already matched), then 清册校验 (roster_check.run_check: the report and the batch's move).

Target ≤ 15 s end to end; the ratio printed is to the bare read of the same file (bench/files.bare_read:
python-calamine, every cell — what the import rows of bench/run.py divide by; spec 80: ≤ 3). Each run starts from the
same empty batch (its people deleted, the batch back to 清册待校验: raw SQL, the bench's own reset),
interleaved with the bare read.

The batch is the big unit's (HZ99999999, bench/mutual_aid.py) in LAST protection year: this year
its people are already in the batch registry.match_entries is timed on, and a batch in a later
year would make that year the centre list's default.
"""

import os
import statistics
import tempfile
import time
from pathlib import Path

SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
PEOPLE = int(os.environ.get("BENCH_AID_UPLOAD_PEOPLE") or (2_000 if SMOKE else 50_000))
REPEAT = int(os.environ.get("BENCH_AID_UPLOAD_REPEAT", "3"))
TARGET_MS = 15_000


def roster_file(path: Path, people: list) -> Path:
    """The template's header, then (姓名, 居民身份证, 证件号码, 性别, 出生日期, 是) a row each."""
    from openpyxl import Workbook

    from models.mutual_aid.roster_import import TEMPLATE_HEADER
    wb = Workbook()
    sheet = wb.active
    sheet.title = "参保名单"
    sheet.append(TEMPLATE_HEADER)
    for name, number, gender, birth in people:
        sheet.append([name, "居民身份证", number, gender, str(birth), "是"])
    wb.save(path)
    return path


def _batch(info: dict):
    """The big unit's centralized batch of last protection year (made once), its account, and the
    moment inside that year's centralized window the check runs at."""
    from datetime import datetime

    from models.base import today
    from models.mutual_aid import years
    from models.mutual_aid.batches import TO_CHECK, AidBatch
    from models.mutual_aid.codes import InsuranceCode
    from models.rules.mutual_year import protection_year_of
    code = InsuranceCode.get(InsuranceCode.code == "HZ99999999")
    last = years.get_year(protection_year_of(today()) - 1)
    batch = AidBatch.get_or_none((AidBatch.code == code.id) & (AidBatch.year == last.id)
                                 & (AidBatch.kind == years.CENTRAL))
    if batch is None:
        batch = AidBatch.create(code=code.id, org=code.org_id, year=last.id, kind=years.CENTRAL, status=TO_CHECK)
    window = years.AidWindow.get((years.AidWindow.year == last.id) & (years.AidWindow.kind == years.CENTRAL))
    inside = max(window.starts, min(window.ends, datetime(last.year, 6, 10, 10)))
    return batch, code.account, inside


def bench_roster_upload(b, info: dict) -> None:
    from bench.files import bare_read
    from bench.generate import Scale
    from models import db
    from models.mutual_aid import roster_check
    from models.mutual_aid.batches import TO_CHECK, AidBatch
    batch, account, inside = _batch(info)
    p = b.param
    big = info["grassroots"][:Scale.from_env().big_unions]
    people = db.execute_sql(
        'SELECT pe."name", pe."id_number", pe."gender", pe."birth_date" FROM "membership" m '
        f'JOIN "person" pe ON pe."id" = m."person_id" WHERE m."org_id" IN ({", ".join([p] * len(big))}) '
        f'ORDER BY m."id" LIMIT {PEOPLE}', big).fetchall()
    path = roster_file(Path(tempfile.mkdtemp(prefix="bench-aid-upload-")) / f"roster-{len(people)}.xlsx", people)
    client = b.client(account.username, info["password"])
    url = f"/mutual-aid/batches/{batch.id}/upload"

    def reset():
        with db.atomic():
            db.execute_sql(f'DELETE FROM "roster_entry" WHERE "batch_id" = {p}', (batch.id,))
            db.execute_sql(f'UPDATE "aid_batch" SET "status" = {p}, "reason" = \'\' WHERE "id" = {p}',
                           (TO_CHECK, batch.id))

    def upload():
        with open(path, "rb") as f:
            response = client.post(url, data={"file": (f, path.name)}, content_type="multipart/form-data")
        assert response.status_code in (302, 303), response.status_code

    reads, uploads, checks, totals, reports = [], [], [], [], []
    cpu_reads, cpu_uploads = [], []
    found = None
    for _ in range(REPEAT):
        reset()
        start, cpu = time.perf_counter(), time.process_time()
        bare_read(path)
        reads.append((time.perf_counter() - start) * 1000)
        cpu_reads.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        upload()
        middle = time.perf_counter()
        cpu_uploads.append(time.process_time() - cpu)
        found = roster_check.run_check(AidBatch.get_by_id(batch.id), account, at=inside)
        end = time.perf_counter()
        uploads.append((middle - start) * 1000)
        checks.append((end - middle) * 1000)
        totals.append((end - start) * 1000)
        assert found.uploaded == len(people), (found.uploaded, len(people))
        start = time.perf_counter()
        roster_check.report(AidBatch.get_by_id(batch.id), inside.date())
        reports.append((time.perf_counter() - start) * 1000)
    reset()
    read = statistics.median(reads)
    total = statistics.median(totals)
    rows = b.count("roster_entry")
    ratios = sorted(t / r for t, r in zip(totals, reads, strict=True))
    b.row(f"参保名单 upload of {len(people):,} rows (xlsx → job → rows in, matched against 会员库 + "
          f"{b.count('registry_payer'):,}-payer 建议清册) → 清册校验, end to end ({REPEAT} runs, p95 = slowest; "
          f"ratios {ratios[0]:.2f}–{ratios[-1]:.2f}; {found.matched:,} matched, {found.retired:,} 退休, "
          f"{found.name_warnings:,} 姓名匹配异常)", rows, (total, max(totals)), f"≤ {TARGET_MS}", total / read)
    b.row(f"  of which the upload (POST → job → rows in, matched; CPU {statistics.median(cpu_uploads):.2f} s, "
          f"bare read {statistics.median(cpu_reads):.2f} s; ratio ≤ 3)", rows,
          (statistics.median(uploads), max(uploads)), "", statistics.median(uploads) / read)
    b.row("  of which 清册校验 (roster_check.run_check)", rows, (statistics.median(checks), max(checks)))
    b.row("  roster_check.report alone", rows, (statistics.median(reports), max(reports)))
    b.row(f"  bare calamine read of the same {len(people):,}-row file", rows, (read, max(reads)))
