"""生成保费信息 in the benchmark city (issue 18 item 7): one unit's centralized batch of 50,000 people
(2,000 at smoke scale; 在职, - with and without 社保 mixed) in 保障项目待选择. Timed: 生成保费信息
(models/mutual_aid/premium_ops.generate: the items, the coverage, every person's premium, the total —
alternating two item sets so every run rewrites every premium), target ≤ 5 s, beside the bare
baseline of one UPDATE of the same rows' premium column; and 提交确认保费's recomputation (which finds
nothing to rewrite). The batch is kept in 保障项目待选择 between runs.
"""

import os
from datetime import datetime

SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
PEOPLE = int(os.environ.get("BENCH_AID_PEOPLE") or (2_000 if SMOKE else 50_000))
CHUNK = 5_000
USERNAME = "bench-aid-unit"


def generate_items_batch(info: dict):
    """The year, an approved code with its handler and the batch with its people (made once)."""
    from models import db
    from models.base import now
    from models.mutual_aid import years
    from models.mutual_aid.batches import CHOOSE_ITEMS, AidBatch, RosterEntry
    from models.mutual_aid.codes import APPROVED, CodeHandler, CodeUnit, InsuranceCode
    from models.orgs.accounts import Account
    account = Account.get_or_none(Account.username == USERNAME)
    if account is not None:
        code = InsuranceCode.get(InsuranceCode.account == account.id)
        return AidBatch.get(AidBatch.code == code.id), account
    year = years.get_year(2026) or years.create_year(2026)
    stamp = now()
    with db.atomic():
        account = Account(username=USERNAME, org=info["grassroots"][0])
        account.set_password(info["password"])
        account.save()
        code = InsuranceCode.create(account=account.id, org=info["grassroots"][0], unit_name="基准互助保障单位",
                                    uscc="91310000000000001X", address="上海市", contact="联系人", phone="13800000000",
                                    code="BENCH-AID-1", status=APPROVED)
        CodeUnit.create(code=code.id, name=code.unit_name, is_main=True)
        CodeHandler.create(code=code.id, name="经办人", mobile="13800000000", email="bench@example.com")
        batch = AidBatch.create(code=code.id, org=code.org_id, year=year.id, kind=years.CENTRAL,
                                status=CHOOSE_ITEMS, submitted_at=datetime(2026, 6, 9, 10))
        rows = []
        for i in range(PEOPLE):
            rows.append({"batch": batch.id, "year": year.id, "id_number": f"B{i:09d}", "id_type": "护照",
                         "name": f"参保人{i}",
                         "gender": "男", "birth_date": datetime(1980, 1, 1).date(),
                         "employment": ("在职", "-", "-")[i % 3], "has_social_insurance": i % 3 == 1,
                         "active": True, "created_at": stamp})
        for i in range(0, len(rows), CHUNK):
            RosterEntry.insert_many(rows[i:i + CHUNK]).execute()
    return batch, account


def bench_items(b, info: dict, timed) -> None:
    from models.mutual_aid import premium_ops
    from models.mutual_aid.batches import AidBatch
    from models.mutual_aid.years import AidWindow
    batch, account = generate_items_batch(info)
    window = AidWindow.get((AidWindow.year == batch.year_id) & (AidWindow.kind == batch.kind))
    inside = max(window.starts, min(window.ends, datetime(2026, 6, 10, 10)))
    choices = [["A0", "B0", "C0"], ["A0", "A1", "B0", "B2", "C0", "C3"]]
    turn = [0]

    def generate():
        turn[0] += 1
        premium_ops.generate(AidBatch.get_by_id(batch.id), choices[turn[0] % 2], account, at=inside)

    def confirm_recompute():  # what 提交确认保费 runs before the move (its rows are already right)
        fresh = AidBatch.get_by_id(batch.id)
        premium_ops._write_premiums(fresh, premium_ops.chosen_items(fresh))

    flip = [0]

    def bare():
        flip[0] += 1
        b.db.execute_sql('UPDATE "roster_entry" SET "premium" = ' + b.param + ' WHERE "batch_id" = ' + b.param,
                         (flip[0], batch.id))

    people = b.count("roster_entry")
    gen = timed(generate, repeat=3)
    raw = timed(bare, repeat=3)
    b.row(f"生成保费信息 of {PEOPLE:,} people (items, coverage, premiums, total)", people, gen, "≤ 5000",
          gen[0] / raw[0] if raw[0] else None)
    b.row(f"  bare: one UPDATE of the {PEOPLE:,} premiums", people, raw)
    b.row(f"提交确认保费's recomputation of {PEOPLE:,} premiums (nothing to rewrite)", people,
          timed(confirm_recompute, repeat=3))
