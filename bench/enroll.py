"""会员专享基本保障 in the benchmark city (issue 7): a protection year with the reference types and
splits, 300,000 enrollments in 20,000 submissions (15 people each, in as many small unions), and
the registry statuses of the first 5,000-member union's card holders; timed: its
参保确认画面-集中参保办理 with all counts, the same computation vs raw SQL, and the notice PDF.
"""

import time
from datetime import date

from models import db

CHUNK = 5_000


def generate_enrollments(info: dict, submissions: int = 20_000, per: int = 15) -> dict:
    from models.base import now, today
    from models.cards.cards import CARD_NORMAL, Card
    from models.enroll import plans
    from models.enroll.enrollment import Enrollment, StatusRecord, Submission
    from models.enroll.plans import FeeSplit
    from models.members.people import Membership, Person
    from models.orgs.organizations import Organization
    start = time.perf_counter()
    on = today()
    y = on.year + 1 if on.month >= 10 else on.year
    year = plans.get_year(y)
    if year is not None:  # a kept city
        return {"year": year, "enroll_seconds": 0.0, "kept": True}
    stamp = now()
    with db.atomic():
        year = plans.create_year(y)
        a = plans.types_of(year)[0]
        districts = [o.id for o in Organization.select(Organization.id).where(Organization.level == "district")]
        FeeSplit.insert_many([{"org": d, "type": t.id, "district_part": t.full_fee - t.subsidy_full,
                               "grassroots_part": 0, "valid_from": plans.day_start(date(y, 1, 1)),
                               "valid_to": plans.day_end(date(y, 12, 31)), "updated_at": stamp}
                              for d in districts for t in plans.types_of(year)]).execute()
        small = info["grassroots"][10:10 + submissions]
        taken: dict = {}
        query = (Membership.select(Membership.org, Membership.person)
                 .where(Membership.org.in_(small)).order_by(Membership.id).tuples())
        for org_id, pid in query.iterator():
            group = taken.setdefault(org_id, [])
            if len(group) < per:
                group.append(pid)
        subs = [{"org": org_id, "year": year.id, "channel": "会员卡参保", "mode": "集中参保", "type": a.id,
                 "status": "区局确认中", "count": len(pids), "fee": 2600 * len(pids), "city": 1300 * len(pids),
                 "district": 1300 * len(pids), "grassroots": 0, "submitted_at": stamp, "updated_at": stamp}
                for org_id, pids in taken.items()]
        for i in range(0, len(subs), CHUNK):
            Submission.insert_many(subs[i:i + CHUNK]).execute()
        sub_ids = dict(Submission.select(Submission.org, Submission.id).where(Submission.year == year.id).tuples())
        rows = [{"person": pid, "year": year.id, "org": org_id, "submission": sub_ids[org_id], "channel": "会员卡参保",
                 "mode": "集中参保", "type": a.id, "start": date(y, 1, 1), "end": date(y, 12, 31), "period": "全年",
                 "fee": 2600, "city": 1300, "district": 1300, "grassroots": 0, "active": True, "created_at": stamp}
                for org_id, pids in taken.items() for pid in pids]
        for i in range(0, len(rows), CHUNK):
            Enrollment.insert_many(rows[i:i + CHUNK]).execute()
        big = info["big_union"]
        holders = list(Person.select(Person.id_number, Person.name).join(Card, on=(Card.person == Person.id))
                       .join(Membership, on=(Membership.person == Person.id))
                       .where((Membership.org == big) & (Card.status == CARD_NORMAL)).tuples())
        StatusRecord.insert_many([{"id_number": n, "name": name, "card_status": "正常",
                                   "employment": "退休" if i % 50 == 0 else "在职",
                                   "insurance": "未缴纳" if i % 20 == 7 else "已缴纳", "status_date": on,
                                   "updated_at": stamp} for i, (n, name) in enumerate(holders)]).execute()
        from models.stats import tally
        tally.rebuild()  # the monitor's counters, after the bulk inserts
    db.execute_sql("ANALYZE")
    return {"year": year, "enroll_seconds": time.perf_counter() - start, "kept": False, "enrollments": len(rows)}


def bench_enroll(b, info: dict, members: int, timed, repeat: int) -> None:
    from models.enroll import card_enroll, notice_pdf
    from models.orgs.organizations import Organization
    data = generate_enrollments(info)
    if not data["kept"]:
        b.row("generate enrollments (20,000 submissions, 15 people each)", b.count("enrollment"),
              (data["enroll_seconds"] * 1000, None))
    enrollments = b.count("enrollment")
    big = b.client("bench-big", info["password"])
    b.row("参保确认画面-集中参保办理, 5,000-member union, all counts (GET /enroll/card/central)", enrollments,
          timed(b.get(big, "/enroll/card/central"), max(20, repeat // 2)), "p95 ≤ 300")
    org = Organization.get_by_id(info["big_union"])
    year = data["year"]
    orm = timed(lambda: card_enroll.central_screen(org, year), max(20, repeat // 2))
    p = b.param

    def raw():  # the statements central_screen runs, as raw SQL
        ids = [r[0] for r in db.execute_sql(
            'SELECT m."person_id" FROM "membership" m JOIN "person" p ON p."id" = m."person_id" '
            f'WHERE m."org_id" = {p} AND m."status" = {p} AND NOT p."population_removed"', (org.id, "正常")).fetchall()]
        marks = ", ".join([p] * len(ids))
        cards = [r[0] for r in db.execute_sql(f'SELECT "person_id" FROM "card" WHERE "person_id" IN ({marks}) '
                                              f'AND "status" = {p}', (*ids, "正常")).fetchall()]
        cmarks = ", ".join([p] * len(cards)) or "NULL"
        db.execute_sql(f'SELECT * FROM "status_record" WHERE "id_number" IN (SELECT "id_number" FROM "person" '
                       f'WHERE "id" IN ({cmarks}))', cards).fetchall()
        db.execute_sql(f'SELECT * FROM "enrollment" WHERE "year_id" = {p} AND "active" AND "person_id" IN ({cmarks})',
                       (year.id, *cards)).fetchall()
        db.execute_sql(f'SELECT "person_id" FROM "card_confirm" WHERE "org_id" = {p} AND "year_id" = {p}',
                       (org.id, year.id)).fetchall()
    raw_t = timed(raw, max(20, repeat // 2))
    b.row("  data access: the screen's counts (ORM vs raw SQL)", enrollments, orm, "", orm[0] / raw_t[0])
    small = Organization.get_by_id(info["grassroots"][10])
    b.row("告知书 PDF of a union (15 people, A4, embedded font)", enrollments,
          timed(lambda: notice_pdf.grassroots_notice(small, year), max(10, repeat // 10)), "p95 ≤ 1000")
