"""The review chain in the benchmark city (issue 8): 20,000 district batches (1,250 per district,
statuses mixed), their payment vouchers, the grassroots submissions they hold, and for the first
district a review queue of 2,000 pending groups (distinct unions) plus 100 queued (待提交) ones.
Timed: 集中参保审核 of that district (both panes, paged, with the totals), 参保批次管理 of the
district and the centre's incoming batches (参保审核中), each beside the same statements as raw
SQL. Needs the enrollment year and submissions of bench/enroll.py (generated first when missing).

What the generator does to the enrollment rows: in every other district 60 % of the pending
centralized submissions go into that district's batches (status 已完成 with the batch and its CB
number; 失败 with inactive enrollments when the batch failed), 40 % stay pending (so the other
queues are not empty); in the first district every union's submission stays pending, and 800 more
unions of it submit 15 people each (700 pending, 100 already in the district's 待提交 list).
Batches without submissions (the first district's, and the tail of the others') carry made-up
totals of 15 people.
"""

import os
import time
from datetime import datetime, timedelta

from models import db, is_postgres

CHUNK = 2_000
SMOKE = os.environ.get("BENCH_SCALE") == "smoke"
BATCHES_PER_DISTRICT = 100 if SMOKE else 1_250
PENDING, QUEUED, PER = (200, 20, 15) if SMOKE else (2_000, 100, 15)
# status by (batch index // 16) % 20: 20 % checking, 20 % awaiting a voucher, 15 % voucher
# under review, 40 % completed, 5 % failed
STATUS_CYCLE = ["参保审核中"] * 4 + ["缴费凭证待上传"] * 4 + ["凭证审核中"] * 3 + ["已完成"] * 8 + ["失败"]
LOAD_UNIONS = 9  # accounts bench-g1 … bench-g9 for the other 5,000-member unions (load test)


def _insert(model, rows):
    for i in range(0, len(rows), CHUNK):
        model.insert_many(rows[i:i + CHUNK]).execute()


def generate_review(info: dict, year) -> dict:
    from models.base import now
    from models.enroll.enrollment import Enrollment, Submission
    from models.members.people import Membership
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    from models.review.batches import CENTRAL_KIND, COMPLETED, FAILED, VOUCHER_REVIEW, BatchCounter, DistrictBatch
    from models.review.enroll_review import DISTRICT_MARK
    from models.review.vouchers import V_DONE, V_REVIEW, PaymentVoucher, VoucherItem
    if DistrictBatch.select().exists():
        return {"kept": True, "review_seconds": 0.0}
    start = time.perf_counter()
    stamp = now()
    is_pg = is_postgres()
    p = "%s" if is_pg else "?"
    with db.atomic():
        city = Organization.get_by_id(info["city"])
        centre = Organization.add(city, name="基准市职保中心", type="市职保中心", level="centre")
        accounts = [("bench-centre", centre.id)] + [(f"bench-g{i}", info["grassroots"][i])
                                                    for i in range(1, LOAD_UNIONS + 1)]
        for username, org_id in accounts:
            if not Account.select().where(Account.username == username).exists():
                account = Account(username=username, org=org_id)
                account.set_password(info["password"])
                account.save()
        districts = [o.id for o in Organization.select(Organization.id)
                     .where(Organization.level == "district").order_by(Organization.id)]
        first = info["district"]

        # the first district: 2,000 unions pending, 100 queued
        pending = {org_id for (org_id,) in Submission.select(Submission.org).join(
            Organization, on=(Submission.org == Organization.id)).where(
            (Submission.year == year.id) & (Submission.status == "区局确认中")
            & (Organization.district == first)).tuples()}
        a = Submission.select(Submission.type).where(Submission.year == year.id).first().type_id
        spare = [o for (o,) in Organization.select(Organization.id).where(
            (Organization.district == first) & (Organization.level == "grassroots")
            & Organization.id.not_in(info["grassroots"][:LOAD_UNIONS + 1])).order_by(Organization.id).tuples()
            if o not in pending]
        new = spare[:PENDING + QUEUED - len(pending)]
        queued = set(new[-QUEUED:])
        people: dict = {}
        for org_id, pid in (Membership.select(Membership.org, Membership.person)
                            .where(Membership.org.in_(new)).order_by(Membership.id).tuples().iterator()):
            group = people.setdefault(org_id, [])
            if len(group) < PER:
                group.append(pid)
        base = stamp - timedelta(days=3)
        subs = [{"org": org_id, "year": year.id, "channel": "会员卡参保", "mode": "集中参保", "type": a,
                 "status": "区局确认中", "count": len(pids), "fee": 2600 * len(pids), "city": 1300 * len(pids),
                 "district": 1300 * len(pids), "grassroots": 0, "submitted_at": base + timedelta(minutes=i),
                 "updated_at": stamp, "queued_level": DISTRICT_MARK if org_id in queued else None,
                 "queued_by": first if org_id in queued else None}
                for i, (org_id, pids) in enumerate(people.items())]
        _insert(Submission, subs)
        sub_ids = dict(Submission.select(Submission.org, Submission.id).where(
            (Submission.year == year.id) & Submission.org.in_(new)).tuples())
        y = year.year
        _insert(Enrollment, [{"person": pid, "year": year.id, "org": org_id, "submission": sub_ids[org_id],
                              "channel": "会员卡参保", "mode": "集中参保", "type": a,
                              "start": datetime(y, 1, 1).date(), "end": datetime(y, 12, 31).date(),
                              "period": "全年", "fee": 2600, "city": 1300, "district": 1300, "grassroots": 0,
                              "active": True, "created_at": stamp}
                             for org_id, pids in people.items() for pid in pids])

        # the batches: 1,250 per district, numbered CB + day + sequence, 50 a day going back
        batches, counters = [], {}
        for k in range(BATCHES_PER_DISTRICT * len(districts)):
            day = (stamp - timedelta(days=k // 50)).replace(hour=9, minute=0, second=0, microsecond=0)
            seq = k % 50 + 1
            at = day + timedelta(minutes=seq * 7)
            status = STATUS_CYCLE[(k // len(districts)) % len(STATUS_CYCLE)]
            counters[f"{day:%Y%m%d}"] = seq
            decided = status != "参保审核中"
            paid = status in (VOUCHER_REVIEW, COMPLETED)
            batches.append({"number": f"CB{day:%Y%m%d}{seq:04d}", "district": districts[k % len(districts)],
                            "year": year.id, "kind": CENTRAL_KIND, "status": status, "count": PER,
                            "card_count": PER, "social_count": 0, "fee": 2600 * PER, "city": 1300 * PER,
                            "district_part": 1300 * PER, "grassroots_part": 0, "credit_used": 0,
                            "handler_name": "基准经办人", "handler_mobile": "13900000000",
                            "handler_email": "bench@example.com",
                            "reason": "逾期未缴费" if status == FAILED else "", "submitted_at": at,
                            "updated_at": at + timedelta(days=2 if decided else 0),
                            "feedback_at": at + timedelta(days=1) if decided else None,
                            "voucher_at": at + timedelta(days=2) if paid else None,
                            "writeoff_at": at + timedelta(days=3) if status == COMPLETED else None})
        # the other districts' pending submissions: 60 % into their batches (the newest batches first)
        by_district: dict = {}
        for sid, district, count, fee, cty, dst, grs in (
                Submission.select(Submission.id, Organization.district, Submission.count,
                                  Submission.fee, Submission.city, Submission.district, Submission.grassroots)
                .join(Organization, on=(Submission.org == Organization.id))
                .where((Submission.year == year.id) & (Submission.status == "区局确认中")
                       & (Organization.district != first)).order_by(Submission.id).tuples()):
            by_district.setdefault(district, []).append((sid, count, fee, cty, dst, grs))
        of_district: dict = {}
        for row in batches:
            of_district.setdefault(row["district"], []).append(row)
        links = []  # (submission id, batch number, submission status)
        for district, rows in by_district.items():
            take = rows[:len(rows) * 6 // 10]
            mine = of_district[district]
            totals: dict = {}
            for i, (sid, count, fee, cty, dst, grs) in enumerate(take):
                batch = mine[i % len(mine)]
                links.append((sid, batch["number"], "失败" if batch["status"] == FAILED else "已完成"))
                t = totals.setdefault(batch["number"], [batch, 0, 0, 0, 0, 0])
                for j, v in enumerate((count, fee, cty, dst, grs)):
                    t[j + 1] += v
            for batch, count, fee, cty, dst, grs in totals.values():
                batch.update(count=count, card_count=count, fee=fee, city=cty, district_part=dst,
                             grassroots_part=grs)
        _insert(DistrictBatch, batches)
        BatchCounter.insert_many([{"day": d, "value": v} for d, v in counters.items()]).on_conflict_ignore().execute()
        ids = dict(DistrictBatch.select(DistrictBatch.number, DistrictBatch.id).tuples())

        db.execute_sql('CREATE TEMPORARY TABLE "bench_link" ("sub_id" INTEGER PRIMARY KEY, "batch_id" INTEGER, '
                       '"number" VARCHAR(20), "status" VARCHAR(6))')
        for i in range(0, len(links), 500):
            part = links[i:i + 500]
            db.execute_sql('INSERT INTO "bench_link" VALUES ' + ", ".join([f"({p}, {p}, {p}, {p})"] * len(part)),
                           [v for sid, number, status in part for v in (sid, ids[number], number, status)])
        db.execute_sql(
            'UPDATE "submission" SET '
            '"batch_id" = (SELECT l."batch_id" FROM "bench_link" l WHERE l."sub_id" = "submission"."id"), '
            '"district_batch" = (SELECT l."number" FROM "bench_link" l WHERE l."sub_id" = "submission"."id"), '
            '"status" = (SELECT l."status" FROM "bench_link" l WHERE l."sub_id" = "submission"."id") '
            'WHERE "id" IN (SELECT "sub_id" FROM "bench_link")')
        db.execute_sql('UPDATE "enrollment" SET "active" = ' + ("false" if is_pg else "0")
                       + ' WHERE "submission_id" IN (SELECT "sub_id" FROM "bench_link" WHERE "status" = '
                       + p + ")", ("失败",))
        db.execute_sql('DROP TABLE "bench_link"')

        # vouchers: one per two batches of a district in 凭证审核中 / 已完成
        pairs: dict = {}
        for row in batches:
            if row["status"] in (VOUCHER_REVIEW, COMPLETED):
                pairs.setdefault((row["district"], row["status"]), []).append(row)
        vouchers, covered = [], []
        for (district, status), rows in pairs.items():
            for i in range(0, len(rows), 2):
                two = rows[i:i + 2]
                n = len(vouchers) + 1
                vouchers.append({"district": district, "file_name": f"缴费凭证{n}", "stored_name": f"bench-{n}.pdf",
                                 "content_type": "application/pdf", "size": 20_000,
                                 "district_amount": sum(b["district_part"] for b in two),
                                 "grassroots_amount": sum(b["grassroots_part"] for b in two), "credit": 0,
                                 "status": V_DONE if status == COMPLETED else V_REVIEW, "reason": "",
                                 "uploaded_at": two[0]["voucher_at"],
                                 "decided_at": two[0]["writeoff_at"]})
                covered.append([b["number"] for b in two])
        _insert(PaymentVoucher, vouchers)
        voucher_ids = [v for (v,) in PaymentVoucher.select(PaymentVoucher.id).order_by(PaymentVoucher.id).tuples()]
        _insert(VoucherItem, [{"voucher": vid, "batch": ids[number], "active": True}
                              for vid, numbers in zip(voucher_ids, covered, strict=True) for number in numbers])
    from bench.generate import settle
    settle()
    return {"kept": False, "review_seconds": time.perf_counter() - start, "batches": len(batches),
            "vouchers": len(vouchers), "linked": len(links), "new_submissions": len(subs)}


def bench_review(b, info: dict, members: int, timed, repeat: int) -> None:
    from bench.enroll import generate_enrollments
    from models.orgs.accounts import Account
    from models.orgs.organizations import Organization
    from models.review import enroll_review as review
    from models.review.batches import CHECKING, DistrictBatch
    from views.access import scoped
    year = generate_enrollments(info)["year"]
    data = generate_review(info, year)
    if not data["kept"]:
        b.row(f"generate review chain ({data['batches']:,} batches, {data['vouchers']:,} vouchers, "
              f"{data['linked']:,} submissions linked, {data['new_submissions']:,} new)",
              b.count("district_batch"), (data["review_seconds"] * 1000, None))
    submissions = b.count("submission")
    batches = b.count("district_batch")
    district = b.client("bench-district", info["password"])
    org = Organization.get_by_id(info["district"])
    pending = review.pane(org, year, review.CENTRAL_KIND, False)
    groups = review.groups(pending)[1]
    n = max(5, repeat)
    page = district.get("/review/central").get_data(as_text=True)
    assert f"总共 {groups} 条记录" in page, "the 待审批 pane does not show the district's centralized queue"
    b.row(f"区局集中参保审核（{groups:,}条待审批，分页+合计） (GET /review/central)", submissions,
          timed(b.get(district, "/review/central"), n), "p95 ≤ 100")
    last = -(-groups // 15)
    b.row(f"  the same, 待审批 last page ({last}) (GET /review/central?p_page={last})", submissions,
          timed(b.get(district, f"/review/central?p_page={last}"), n), "p95 ≤ 100")

    def orm_panes():  # what the page's two panes run: groups + count of each, the queued totals
        for queued in (False, True):
            query = review.pane(org, year, review.CENTRAL_KIND, queued)
            review.groups(query, 1, 15)
            if queued:
                review.totals(query)
    statements = _statements(org, year)
    orm = timed(orm_panes, n)
    raw = timed(lambda: [db.execute_sql(sql, params).fetchall() for sql, params in statements], n)
    b.row("  data access: both panes' groups, counts and the totals (ORM vs raw SQL)", submissions, orm, "",
          orm[0] / raw[0])

    district_batches = DistrictBatch.select().where(DistrictBatch.district == org.id).count()
    b.row(f"参保批次管理列表, district with {district_batches:,} batches (GET /batches/)", batches,
          timed(b.get(district, "/batches/"), n), "p95 ≤ 100")
    account = Account.get(Account.username == "bench-district")
    orm, raw = _list_timings(b, timed, n, scoped(DistrictBatch, account))
    b.row("  data access: the district's batch count + page (ORM vs raw SQL)", batches, orm, "", orm[0] / raw[0])
    centre = b.client("bench-centre", info["password"])
    checking = DistrictBatch.select().where(DistrictBatch.status == CHECKING).count()
    b.row(f"参保批次管理列表, centre, 状态 参保审核中 ({checking:,} batches) (GET /batches/?status=参保审核中)",
          batches, timed(b.get(centre, "/batches/?status=参保审核中"), n), "p95 ≤ 100")
    centre_account = Account.get(Account.username == "bench-centre")
    orm, raw = _list_timings(b, timed, n, scoped(DistrictBatch, centre_account)
                             .where(DistrictBatch.status == CHECKING), districts=True)
    b.row("  data access: the centre's batch count + page (ORM vs raw SQL)", batches, orm, "", orm[0] / raw[0])


def _statements(org, year) -> list:
    """The SQL the two panes run (each pane's groups page, their count and the names of the page's
    unions and types; the queued totals), as peewee renders it, to execute through the bare cursor."""
    import peewee as pw

    from models.enroll.enrollment import Submission
    from models.enroll.plans import ProtectionType
    from models.review import enroll_review as review
    out = []
    for queued in (False, True):
        query = review.pane(org, year, review.CENTRAL_KIND, queued)
        rows = list(review.group_page(query).tuples())
        out += [_count_sql(review.group_count(query)), review.group_page(query).sql(),
                review.group_names([r[0] for r in rows]).sql(),
                ProtectionType.select(ProtectionType.id, ProtectionType.name)
                .where(ProtectionType.id.in_({r[3] for r in rows} or {0})).sql()]
        if queued:
            out.append(query.select(Submission.channel, pw.fn.SUM(Submission.count), pw.fn.SUM(Submission.fee),
                                    pw.fn.SUM(Submission.city), pw.fn.SUM(Submission.district),
                                    pw.fn.SUM(Submission.grassroots)).group_by(Submission.channel).sql())
    return out


def _count_sql(query) -> tuple:
    sql, params = query.sql()
    return f'SELECT COUNT(1) FROM ({sql}) AS "_wrapped"', params


def _list_timings(b, timed, n, query, districts=False):
    """paginate(): the count, then the first page ordered by 提交时间 (and for the centre the
    page's districts) — ORM vs the same SQL raw."""
    from models.orgs.organizations import Organization
    from models.review.batches import DistrictBatch
    ordered = query.order_by(DistrictBatch.submitted_at.desc(), DistrictBatch.id.desc())

    def names(ids):
        return Organization.select().where(Organization.id.in_(ids or {0}))

    def orm():
        ordered.count()
        rows = list(ordered.paginate(1, 15))
        if districts:
            list(names({r.district_id for r in rows}))
    statements = [_count_sql(ordered.order_by()), ordered.paginate(1, 15).sql()]
    if districts:
        statements.append(names({r.district_id for r in ordered.paginate(1, 15)}).sql())
    return timed(orm, n), timed(lambda: [db.execute_sql(s, p).fetchall() for s, p in statements], n)
