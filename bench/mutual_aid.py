"""The mutual-aid year in the benchmark city (issue 18): 20,000 units (accounts, approved insurance
codes with their unit and handler — one in fifty outside the union tree, i.e. without an
organisation: 未建会企业), 2,000 more applications waiting (申请中, the 参保编码审核 queue), last
year's rosters (one 参保成功 centralized batch per unit with its union's members), this year's
batches in every state (one centralized batch per unit with its roster, and an instant one for
every tenth unit), and a 建议清册 registry of 2,000,000 payers (every member of the city, one in
fifty under another 社保姓名, one in twenty 退休, plus 1,000,000 people who are not members) with a
RegistryUnit per social-security code.

Bulk loads: PostgreSQL COPY, SQLite executemany, and INSERT … SELECT for the rosters and the
registry's members. The smoke city (BENCH_SCALE=smoke) takes 300 units, 150 applications and a
registry of its 20,000 members plus 20,000 others.

Timed (`bench_mutual_aid`): 参保批次查询 of the centre (first page, filtered, the last page) and of
a district, beside the same SQL raw; 参保编码审核 (first page, 申请中, the last page); the other
queues (信息变更审核, 附件审核, 互助保障缴费凭证审核, 专用收据审核) over the rows generate_queues() adds
(attachments of the batches that went to 附件审核, vouchers of those 缴费凭证审核中 / 参保成功, their
专用收据, 信息变更 requests);
registry.match_entries on a roster of the big unions' members (50,000 people; 2,000 in the
smoke city), every run from the same unmatched state, beside a bare baseline: the same data read
by one raw join and the same columns written by one raw executemany.
"""

import io
import os
import statistics
import time
from datetime import timedelta

from models import db, is_postgres

SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
UNITS, APPLYING, OTHERS = (300, 150, 20_000) if SMOKE else (20_000, 2_000, 1_000_000)
MATCH_SIZE = 2_000 if SMOKE else 50_000  # the roster registry.match_entries is timed on
NO_UNION_EVERY = 50  # one unit in fifty has no organisation (未建会企业)
INSTANT_EVERY = 10
MATCH_REPEAT = int(os.environ.get("BENCH_MATCH_REPEAT", "3"))
LOAD_CHUNK = 50_000
PREMIUM = 18_000  # A0+B0+C0, full year (fen)


def _text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load(model, rows) -> int:
    """Bulk-insert dicts (field name → value; the fields' Python defaults fill the rest): COPY on
    PostgreSQL, one executemany per chunk on SQLite."""
    fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    table = model._meta.table_name
    cursor = db.cursor()
    n = 0

    def values(row):
        out = []
        for f in fields:
            value = row[f.name] if f.name in row else (f.default() if callable(f.default) else f.default)
            out.append(f.db_value(value) if value is not None else None)
        return out

    def flush(chunk):
        if not chunk:
            return
        if is_postgres():
            data = io.StringIO("".join("\t".join(_text(v) for v in values(r)) + "\n" for r in chunk))
            cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', data)
        else:
            marks = ", ".join("?" * len(fields))
            cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', [values(r) for r in chunk])

    chunk = []
    for row in rows:
        chunk.append(row)
        n += 1
        if len(chunk) >= LOAD_CHUNK:
            flush(chunk)
            chunk = []
    flush(chunk)
    return n


def _states(i: int) -> str:
    """This year's centralized batch of unit i: 40 % 参保成功, the rest spread over the other states."""
    from models.mutual_aid.batches import BATCH_STATES, INSURED
    cycle = list(BATCH_STATES[:-1]) + [INSURED] * 5
    return cycle[i % len(cycle)]


def _centre(info: dict):
    """The centre's account (bench-centre, made by bench/review.py too)."""
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    found = Account.get_or_none(Account.username == "bench-centre")
    if found is None:
        centre = Organization.get_or_none(Organization.level == "centre") or Organization.add(
            Organization.get_by_id(info["city"]), name="基准市职保中心", type="市职保中心", level="centre")
        found = Account(username="bench-centre", org=centre.id)
        found.set_password(info["password"])
        found.save()
    return found


def generate_mutual_aid(info: dict) -> dict:
    from bench.generate import Scale, ric, settle
    from models.base import now, today
    from models.demo import make_uscc
    from models.members.people import Membership
    from models.mutual_aid import years
    from models.mutual_aid.batches import INSURED, TO_CHECK, AidBatch
    from models.mutual_aid.codes import APPLYING as CODE_APPLYING
    from models.mutual_aid.codes import APPROVED, CodeHandler, CodeUnit, InsuranceCode
    from models.mutual_aid.registry import RegistryPayer
    from models.orgs.accounts import Account
    from models.rules.mutual_year import protection_year_of
    _centre(info)
    if Account.select().where(Account.username == "bench-aid-match").exists():
        return {"kept": True, "seconds": 0.0}
    start = time.perf_counter()
    stamp = now()
    scale = Scale.from_env()
    y = protection_year_of(today())
    this, last = (years.get_year(v) or years.create_year(v) for v in (y, y - 1))
    unions = info["grassroots"][scale.big_unions:scale.big_unions + UNITS + APPLYING]
    template = Account(username="bench-aid-template")
    template.set_password(info["password"])
    with db.atomic():
        load(Account, ({"username": f"bench-aid-{i}", "org": unions[i % len(unions)],
                        "password_hash": template.password_hash, "created_at": stamp}
                       for i in range(UNITS + APPLYING)))
        load(Account, [{"username": "bench-aid-match", "org": info["big_union"],
                        "password_hash": template.password_hash, "created_at": stamp}])
        account_ids = dict(Account.select(Account.username, Account.id)
                           .where(Account.username.startswith("bench-aid-")).tuples())

        def code_row(i, approved=True):
            org = None if (approved and i % NO_UNION_EVERY == NO_UNION_EVERY - 1) else unions[i % len(unions)]
            return {"account": account_ids[f"bench-aid-{i}"], "org": org, "unit_name": f"基准互助单位{i}",
                    "uscc": make_uscc(f"91310202{i:09d}"), "address": f"上海市基准路{i}号", "contact": f"联系人{i}",
                    "phone": f"1380000{i % 10_000:04d}", "code": f"HZ{i + 1:08d}" if approved else None,
                    "status": APPROVED if approved else CODE_APPLYING,
                    "applied_at": stamp - timedelta(minutes=i), "updated_at": stamp}
        load(InsuranceCode, (code_row(i, i < UNITS) for i in range(UNITS + APPLYING)))
        load(InsuranceCode, [{**code_row(0), "account": account_ids["bench-aid-match"], "org": info["big_union"],
                              "unit_name": "基准互助大单位", "code": "HZ99999999",
                              "uscc": make_uscc("91310203000000000")}])
        codes = list(InsuranceCode.select(InsuranceCode.id, InsuranceCode.unit_name, InsuranceCode.uscc,
                                          InsuranceCode.org)
                     .where((InsuranceCode.status == APPROVED) & InsuranceCode.code.startswith("HZ"))
                     .order_by(InsuranceCode.id).tuples())
        load(CodeUnit, ({"code": cid, "name": name, "uscc": uscc, "is_main": True, "created_at": stamp}
                        for cid, name, uscc, _org in codes))
        load(CodeHandler, ({"code": cid, "name": f"经办人{cid}", "mobile": f"1390000{cid % 10_000:04d}",
                            "email": f"aid{cid}@example.com", "updated_at": stamp} for cid, *_ in codes))
        match_code = InsuranceCode.get(InsuranceCode.code == "HZ99999999")
        units = [c for c in codes if c[0] != match_code.id]
        batch_rows = []
        for i, (cid, _name, _uscc, org) in enumerate(units):
            batch_rows.append({"code": cid, "org": org, "year": last.id, "kind": years.CENTRAL, "status": INSURED,
                               "submitted_at": stamp - timedelta(days=365), "created_at": stamp - timedelta(days=366),
                               "updated_at": stamp - timedelta(days=300)})
            status = _states(i)
            batch_rows.append({"code": cid, "org": org, "year": this.id, "kind": years.CENTRAL, "status": status,
                               "submitted_at": stamp - timedelta(days=20), "created_at": stamp - timedelta(days=30),
                               "updated_at": stamp - timedelta(minutes=i)})
            if i % INSTANT_EVERY == 0:
                batch_rows.append({"code": cid, "org": org, "year": this.id, "kind": years.INSTANT,
                                   "status": TO_CHECK, "created_at": stamp, "updated_at": stamp})
        load(AidBatch, batch_rows)
        load(AidBatch, [{"code": match_code.id, "org": info["big_union"], "year": this.id, "kind": years.CENTRAL,
                         "status": TO_CHECK, "created_at": stamp, "updated_at": stamp}])
        match_batch = AidBatch.get((AidBatch.code == match_code.id) & (AidBatch.year == this.id))
        p = "%s" if is_postgres() else "?"
        mod = "%%" if is_postgres() else "%"  # the modulo operator (psycopg2 reads % as a parameter)
        true = "true" if is_postgres() else "1"
        # the centralized rosters: each unit's union's members (the account's organisation)
        db.execute_sql(
            'INSERT INTO "roster_entry" ("batch_id", "year_id", "id_type", "id_number", "name", "gender", '
            '"birth_date", "has_social_insurance", "employment", "source", "imported_name", "member_name", '
            '"registry_name", "registry_matched", "social_code", "name_confirmed", "still_paying", '
            '"medical_in_service", "premium", "active", "created_at") '
            f'SELECT b."id", b."year_id", {p}, pe."id_number", pe."name", pe."gender", pe."birth_date", {true}, '
            f'{p}, {p}, pe."name", pe."name", \'\', {true}, \'\', {true}, '
            f'{"false" if is_postgres() else "0"}, {"false" if is_postgres() else "0"}, '
            f'CASE WHEN b."status" IN ({p}, {p}, {p}) THEN {PREMIUM} ELSE 0 END, {true}, {p} '
            'FROM "aid_batch" b JOIN "insurance_code" c ON c."id" = b."code_id" '
            'JOIN "account" a ON a."id" = c."account_id" JOIN "membership" m ON m."org_id" = a."org_id" '
            f'JOIN "person" pe ON pe."id" = m."person_id" WHERE b."kind" = {p} AND b."id" <> {p} '
            f'AND c."code" LIKE {p}',  # this generator's units only (bench/mutual_aid_items.py has its own)
            ("居民身份证", "在职", "上年度参保名单", "缴费凭证待上传", "缴费凭证审核中", INSURED, stamp, years.CENTRAL,
             match_batch.id, "HZ%"))
        db.execute_sql('UPDATE "aid_batch" SET "premium_total" = (SELECT COALESCE(SUM(e."premium"), 0) '
                       'FROM "roster_entry" e WHERE e."batch_id" = "aid_batch"."id") WHERE "code_id" IN '
                       f'(SELECT "id" FROM "insurance_code" WHERE "code" LIKE {p})', ("HZ%",))
        # the 50,000-person roster to match: the big unions' members, as uploaded (not matched yet)
        big = info["grassroots"][:scale.big_unions]
        db.execute_sql(
            'INSERT INTO "roster_entry" ("batch_id", "year_id", "id_type", "id_number", "name", "gender", '
            '"birth_date", "has_social_insurance", "employment", "source", "imported_name", "member_name", '
            '"registry_name", "registry_matched", "social_code", "name_confirmed", "still_paying", '
            '"medical_in_service", "premium", "active", "created_at") '
            f'SELECT {p}, {p}, {p}, pe."id_number", pe."name", pe."gender", pe."birth_date", {true}, {p}, {p}, '
            f'pe."name", \'\', \'\', {"false" if is_postgres() else "0"}, \'\', {"false" if is_postgres() else "0"}, '
            f'{"false" if is_postgres() else "0"}, {"false" if is_postgres() else "0"}, 0, {true}, {p} '
            'FROM "membership" m JOIN "person" pe ON pe."id" = m."person_id" '
            f'WHERE m."org_id" IN ({", ".join([p] * len(big))}) ORDER BY m."id" LIMIT {MATCH_SIZE}',
            (match_batch.id, this.id, "居民身份证", "-", "本地上传", stamp, *big))
        # the 建议清册: every member (by its union's social-security code) …
        db.execute_sql(
            'INSERT INTO "registry_payer" ("social_code", "id_number", "name", "employment", "updated_at") '
            'SELECT \'SB\' || CAST(m."org_id" AS TEXT), pe."id_number", '
            f'CASE WHEN pe."id" {mod} 50 = 0 THEN \'社保\' || pe."name" ELSE pe."name" END, '
            f'CASE WHEN pe."id" {mod} 20 = 7 THEN {p} ELSE {p} END, {p} '
            # one row per person: a person with two memberships (a transfer) is one payer
            'FROM (SELECT "person_id", MIN("org_id") AS "org_id" FROM "membership" GROUP BY "person_id") m '
            'JOIN "person" pe ON pe."id" = m."person_id"', ("退休", "在职", stamp))
        # … and people who are not members
        load(RegistryPayer, ({"social_code": f"SBX{k % 40_000:06d}", "updated_at": stamp, "name": f"社保人员{k}",
                              "id_number": _other_id(k, ric),
                              "employment": "在职"} for k in range(OTHERS)))
        db.execute_sql('INSERT INTO "registry_unit" ("social_code", "unit_name", "payers", "updated_at") '
                       f'SELECT "social_code", \'\', COUNT(*), {p} FROM "registry_payer" GROUP BY "social_code"',
                       (stamp,))
    settle()
    return {"kept": False, "seconds": time.perf_counter() - start, "units": len(units),
            "batches": AidBatch.select().count(), "payers": RegistryPayer.select().count(),
            "members": Membership.select().count()}


def generate_queues() -> dict:
    """The centre's review queues, filled once (a city generated before they were kept gets them
    on its next run): an attachment (DECLARATION) for every batch that went to 附件审核 — those
    附件审核中 / 附件审核不通过 and one in three of the later states; a voucher for every batch
    缴费凭证审核中 (凭证审核中) and 参保成功 (已核销), with its AidVoucherBatch row; for each 已核销
    voucher a 专用收据 set — one in three 收据审核中, the rest 审核通过 — with one receipt; and a
    信息变更 request 待审核 for one unit in twenty (单位名称变更 and 一般信息变更 alternating) plus a
    decided one for one in ten. Statuses written directly, as the batches' are."""
    from datetime import date

    from models.base import now
    from models.mutual_aid.batches import ATTACH_FAILED, ATTACH_REVIEW, INSURED, VOUCHER_REVIEW, AidBatch
    from models.mutual_aid.checks import BatchAttachment
    from models.mutual_aid.codes import ACCEPTED, WAITING, CodeChange, InsuranceCode
    from models.mutual_aid.vouchers import (
        R_PASSED,
        R_REVIEW,
        V_DONE,
        V_REVIEW,
        AidReceipt,
        AidReceiptSet,
        AidVoucher,
        AidVoucherBatch,
    )
    from models.rules.mutual_roster import DECLARATION
    if BatchAttachment.select().where(BatchAttachment.stored_name.startswith("bench-")).exists():
        return {"kept": True, "seconds": 0.0}
    start = time.perf_counter()
    stamp = now()
    batches = list(AidBatch.select(AidBatch.id, AidBatch.code, AidBatch.org, AidBatch.status, AidBatch.premium_total,
                                   InsuranceCode.account, InsuranceCode.unit_name)
                   .join(InsuranceCode, on=(InsuranceCode.id == AidBatch.code))
                   .where(InsuranceCode.code.startswith("HZ") & (AidBatch.kind == "集中参保"))
                   .order_by(AidBatch.id).tuples())
    later = {"保障项目待选择", "缴费凭证待上传", VOUCHER_REVIEW, INSURED}
    with db.atomic():
        load(BatchAttachment, ({"batch": bid, "kind": DECLARATION, "file_name": "社会保险费缴费申报表.pdf",
                                "stored_name": f"bench-{bid}.pdf", "content_type": "application/pdf",
                                "size": 120_000, "uploaded_by": account, "uploaded_at": stamp}
                               for bid, _c, _o, status, _t, account, _n in batches
                               if status in (ATTACH_REVIEW, ATTACH_FAILED) or (status in later and bid % 3 == 0)))
        # what 清册提交（附件待审核） marks: those batches are the 附件审核 queue
        AidBatch.update(attachments_sent=True).where(AidBatch.id.in_(
            BatchAttachment.select(BatchAttachment.batch).where(BatchAttachment.stored_name.startswith("bench-")))).execute()
        paying = [b for b in batches if b[3] in (VOUCHER_REVIEW, INSURED)]
        load(AidVoucher, ({"code": code, "org": org, "payer_name": name, "payer_account": f"6222{bid:012d}",
                           "payer_bank": "基准银行上海分行", "paid": total, "paid_on": date(2026, 6, 20), "due": total,
                           "file_name": "缴费凭证.pdf", "stored_name": f"bench-voucher-{bid}.pdf",
                           "content_type": "application/pdf", "size": 80_000,
                           "status": V_REVIEW if status == VOUCHER_REVIEW else V_DONE, "uploaded_by": account,
                           "uploaded_at": stamp - timedelta(minutes=bid % 10_000),
                           "decided_at": None if status == VOUCHER_REVIEW else stamp}
                          for bid, code, org, status, total, account, name in paying))
        vouchers = dict(AidVoucher.select(AidVoucher.stored_name, AidVoucher.id)
                        .where(AidVoucher.stored_name.startswith("bench-voucher-")).tuples())
        load(AidVoucherBatch, ({"voucher": vouchers[f"bench-voucher-{bid}.pdf"], "batch": bid, "amount": total,
                                "active": True} for bid, _c, _o, _s, total, _a, _n in paying))
        done = [(vouchers[f"bench-voucher-{b[0]}.pdf"], b) for b in paying if b[3] == INSURED]
        load(AidReceiptSet, ({"voucher": vid, "org": org, "status": R_REVIEW if bid % 3 == 0 else R_PASSED,
                              "submitted_at": stamp - timedelta(minutes=bid % 10_000),
                              "decided_at": None if bid % 3 == 0 else stamp}
                             for vid, (bid, _c, org, _s, _t, _a, _n) in done))
        sets = dict(AidReceiptSet.select(AidReceiptSet.voucher, AidReceiptSet.id)
                    .where(AidReceiptSet.voucher.in_(AidVoucher.select(AidVoucher.id)
                                                     .where(AidVoucher.stored_name.startswith("bench-voucher-"))))
                    .tuples())
        load(AidReceipt, ({"receipt_set": sets[vid], "title": name, "amount": total, "created_at": stamp}
                          for vid, (_b, _c, _o, _s, total, _a, name) in done))
        codes = list(InsuranceCode.select(InsuranceCode.id, InsuranceCode.org, InsuranceCode.unit_name,
                                          InsuranceCode.account)
                     .where(InsuranceCode.code.startswith("HZ")).order_by(InsuranceCode.id).tuples())
        load(CodeChange, ({"code": cid, "org": org, "kind": "单位名称变更" if cid % 40 == 0 else "一般信息变更",
                           "unit_name": f"{name}（更名）" if cid % 40 == 0 else "", "old_unit_name": name,
                           "address": "" if cid % 40 == 0 else f"上海市变更路{cid}号", "status": WAITING,
                           "requested_by": account, "requested_at": stamp - timedelta(minutes=cid % 10_000)}
                          for cid, org, name, account in codes if cid % 20 == 0))
        load(CodeChange, ({"code": cid, "org": org, "kind": "一般信息变更", "address": f"上海市旧址路{cid}号",
                           "status": ACCEPTED, "requested_by": account, "decided_at": stamp,
                           "requested_at": stamp - timedelta(days=10)}
                          for cid, org, _name, account in codes if cid % 10 == 5))
    from bench.generate import settle
    settle()
    return {"kept": False, "seconds": time.perf_counter() - start,
            "rows": sum(m.select().count() for m in (BatchAttachment, AidVoucher, AidReceiptSet, CodeChange))}


def _other_id(k: int, ric) -> str:
    """The k-th ID number of a non-member (area 310118: the members' numbers start 310101, the
    imported new people's 310115 — bench/files.py)."""
    from datetime import date
    birth = date(1960, 1, 1) + timedelta(days=k % 15_000)
    return ric(f"310118{birth:%Y%m%d}{k // 15_000:03d}")


BATCHES = "/mutual-aid/centre/batches"
CODES = "/mutual-aid/codes/review"


def bench_mutual_aid(b, info: dict, members: int, timed, repeat: int) -> None:
    from models.mutual_aid import batch_list
    from models.mutual_aid.batches import AWAIT_VOUCHER, AidBatch
    from models.mutual_aid.codes import APPLYING as CODE_APPLYING
    from models.mutual_aid.codes import InsuranceCode
    from models.orgs.accounts import Account
    from views.access import scoped
    data = generate_mutual_aid(info)
    if not data["kept"]:
        b.row(f"generate mutual-aid year ({data['units']:,} units, {data['batches']:,} batches, "
              f"{data['payers']:,} 建议清册 payers; COPY / executemany / INSERT … SELECT)", data["payers"],
              (data["seconds"] * 1000, None))
    batches = b.count("aid_batch")
    n = max(5, repeat)
    centre = b.client("bench-centre", info["password"])
    year_ids = batch_list.years()
    total = AidBatch.select().where(AidBatch.year == next(iter(year_ids.values()))).count()
    page = centre.get(BATCHES).get_data(as_text=True)
    assert f"总共 {total} 条记录" in page, "参保批次查询 does not list this year's batches"
    last = -(-total // 15)
    district = info["district"]
    for label, query in (("first page", ""),
                         (f"状态 {AWAIT_VOUCHER} + 集中参保", f"?status={AWAIT_VOUCHER}&kind=集中参保"),
                         ("区 filter (first district)", f"?district={district}"),
                         ("单位名称 search", "?unit=基准互助单位1234"), (f"last page ({last})", f"?page={last}")):
        b.row(f"参保批次查询, centre, {total:,} batches this year: {label} (GET {BATCHES}{query})", batches,
              timed(b.get(centre, BATCHES + query), n), "p95 ≤ 100")
    district_client = b.client("bench-district", info["password"])
    b.row(f"参保批次查询, a district's units (GET {BATCHES})", batches, timed(b.get(district_client, BATCHES), n),
          "p95 ≤ 100")
    account = Account.get(Account.username == "bench-centre")
    f = batch_list.parse_filters({}, year_ids)
    base = scoped(AidBatch, account)

    def orm():  # what the page runs: the counts per state (their sum is the total), the page, its 人数
        batch_list.state_counts(base, f)
        rows = list(batch_list.batches(base, f, last, 15))
        batch_list.people_counts([r.id for r in rows])
    query = batch_list.batches(base, f, last, 15)
    ids = [r.id for r in query]
    statements = [batch_list.state_counts_query(base, f).sql(), query.sql(),
                  batch_list.people_counts_query(ids).sql()]
    raw = timed(lambda: [db.execute_sql(s, p).fetchall() for s, p in statements], n)
    orm_t = timed(orm, n)
    b.row("  data access: 参保批次查询 last page: counts per state + page + 人数 (ORM vs raw SQL)", batches,
          orm_t, "", orm_t[0] / raw[0])

    codes = b.count("insurance_code")
    applying = InsuranceCode.select().where(InsuranceCode.status == CODE_APPLYING).count()
    last_codes = -(-codes // 15)
    for label, query in (("first page", ""), (f"状态 申请中 ({applying:,})", f"?status={CODE_APPLYING}"),
                         (f"last page ({last_codes})", f"?page={last_codes}")):
        b.row(f"参保编码审核, centre, {codes:,} applications: {label} (GET {CODES}{query})", codes,
              timed(b.get(centre, CODES + query), n), "p95 ≤ 100")
    # the other queues of the centre, filled by generate_queues()
    queues = generate_queues()
    if not queues["kept"]:
        b.row(f"generate the review queues ({queues['rows']:,} attachments, vouchers, receipt sets, changes)",
              queues["rows"], (queues["seconds"] * 1000, None))
    from models.mutual_aid.checks import BatchAttachment
    from models.mutual_aid.codes import CodeChange
    from models.mutual_aid.vouchers import AidReceiptSet, AidVoucher
    for label, url, model in (("信息变更审核", "/mutual-aid/changes/review", CodeChange),
                              ("附件审核", "/mutual-aid/attachments/", BatchAttachment),
                              ("互助保障缴费凭证审核", "/mutual-aid/vouchers/review", AidVoucher),
                              ("专用收据审核", "/mutual-aid/receipts/review", AidReceiptSet)):
        rows = model.select().count()
        b.row(f"{label}, centre ({rows:,} rows in the city) (GET {url})", rows, timed(b.get(centre, url), n),
              "p95 ≤ 100")
    bench_match(b, members)
    from bench.mutual_aid_upload import bench_roster_upload
    bench_roster_upload(b, info)


def bench_match(b, members: int) -> None:
    """registry.match_entries on the big unions' roster, each run from the same unmatched state,
    interleaved with the bare baseline (one raw join read, one raw executemany of the same columns)."""
    from models.base import today
    from models.mutual_aid import registry, years
    from models.mutual_aid.batches import AidBatch
    from models.mutual_aid.codes import InsuranceCode
    from models.rules.mutual_year import protection_year_of
    this = years.get_year(protection_year_of(today()))  # (the upload row adds a batch of last year)
    batch = AidBatch.get((AidBatch.code == InsuranceCode.get(InsuranceCode.code == "HZ99999999").id)
                         & (AidBatch.year == this.id))
    p = "%s" if is_postgres() else "?"
    false = "false" if is_postgres() else "0"
    people = b.count("roster_entry")
    size = db.execute_sql(f'SELECT COUNT(*) FROM "roster_entry" WHERE "batch_id" = {p}', (batch.id,)).fetchone()[0]

    def reset():
        with db.atomic():
            db.execute_sql(f'UPDATE "roster_entry" SET "name" = "imported_name", "member_name" = \'\', '
                           f'"registry_name" = \'\', "registry_matched" = {false}, "social_code" = \'\', '
                           f'"employment" = \'-\' WHERE "batch_id" = {p}', (batch.id,))

    def bare():
        rows = db.execute_sql(
            'SELECT e."id", e."name", r."name", r."employment", r."social_code", pe."name" FROM "roster_entry" e '
            'LEFT JOIN "registry_payer" r ON r."id_number" = e."id_number" '
            f'LEFT JOIN "person" pe ON pe."id_number" = e."id_number" WHERE e."batch_id" = {p}',
            (batch.id,)).fetchall()
        values = [(rname or name, pname or "", rname or "", rname is not None, code or "", status or "-", eid)
                  for eid, name, rname, status, code, pname in rows]
        with db.atomic():
            if is_postgres():  # one statement per 1,000 rows (psycopg2's executemany is a round trip a row)
                from psycopg2.extras import execute_values
                execute_values(db.cursor(), 'UPDATE "roster_entry" AS e SET "name" = v.n, "member_name" = v.m, '
                               '"registry_name" = v.r, "registry_matched" = v.x, "social_code" = v.c, '
                               '"employment" = v.s FROM (VALUES %s) AS v(n, m, r, x, c, s, i) WHERE e."id" = v.i',
                               values, page_size=1000)
            else:
                db.cursor().executemany(
                    f'UPDATE "roster_entry" SET "name" = {p}, "member_name" = {p}, "registry_name" = {p}, '
                    f'"registry_matched" = {p}, "social_code" = {p}, "employment" = {p} WHERE "id" = {p}', values)

    runs, bares = [], []
    for _ in range(MATCH_REPEAT):
        reset()
        start = time.perf_counter()
        bare()
        bares.append((time.perf_counter() - start) * 1000)
        reset()
        start = time.perf_counter()
        changed = registry.match_entries(batch)
        runs.append((time.perf_counter() - start) * 1000)
        assert changed == size, (changed, size)
    reset()
    median, bare_median = statistics.median(runs), statistics.median(bares)
    b.row(f"registry.match_entries, {size:,}-person roster vs 会员库 + {b.count('registry_payer'):,}-payer 建议清册 "
          f"({MATCH_REPEAT} runs; p95 = slowest)", people, (median, max(runs)), "", median / bare_median)
    b.row("  bare baseline: one raw join read + one raw executemany of the same columns", people,
          (bare_median, max(bares)))
