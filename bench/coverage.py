"""保障信息查询 and 给付信息查询 in the benchmark city (issue 8): 3,000 claims on the enrollments of
bench/enroll.py; timed: the coverage query by ID number city-wide (市总工会) and for a district
(its subtree), the claims query, and the coverage query's data access vs the same raw SQL.
"""

import time

from models import db

CLAIMS = 3_000

RAW_PERIODS = (
    'SELECT e.*, p.*, y.*, o.*, s.*, t.* FROM "enrollment" e JOIN "person" p ON p."id" = e."person_id" '
    'JOIN "protection_year" y ON y."id" = e."year_id" LEFT JOIN "organization" o ON o."id" = e."org_id" '
    'LEFT JOIN "submission" s ON s."id" = e."submission_id" LEFT JOIN "protection_type" t ON t."id" = e."type_id" '
    'WHERE p."id_number" = {p}{scope} ORDER BY y."year" DESC, e."start" DESC, e."id" DESC')


def generate_claims(n: int = CLAIMS) -> dict:
    from models.base import now
    from models.enroll.claims import CLAIM_TYPES, Claim
    from models.enroll.enrollment import Enrollment
    from models.members.people import Person
    if Claim.select().exists():  # a kept city
        return {"seconds": 0.0, "kept": True}
    start = time.perf_counter()
    stamp = now()
    picked = list(Enrollment.select(Enrollment.id, Enrollment.person, Enrollment.year, Enrollment.org,
                                    Enrollment.start, Person.id_number, Person.name)
                  .join(Person, on=(Enrollment.person == Person.id)).where(Enrollment.active)
                  .order_by(Enrollment.id).limit(n).tuples())
    rows = [{"person": pid, "id_number": number, "name": name, "year": year_id, "enrollment": eid, "org": org_id,
             "claim_date": day, "claim_type": CLAIM_TYPES[i % len(CLAIM_TYPES)], "amount": 36000 + i,
             "note": "", "created_at": stamp}
            for i, (eid, pid, year_id, org_id, day, number, name) in enumerate(picked)]
    with db.atomic():
        for i in range(0, len(rows), 1_000):
            Claim.insert_many(rows[i:i + 1_000]).execute()
    db.execute_sql("ANALYZE")
    return {"seconds": time.perf_counter() - start, "kept": False}


def bench_coverage(b, info: dict, members: int, timed, repeat: int) -> None:
    from models.enroll import claims, coverage
    from models.enroll.enrollment import Enrollment
    from models.members.people import Person
    from models.orgs.organizations import Organization, OrgTree
    made = generate_claims()
    if not made["kept"]:
        b.row(f"generate claims ({CLAIMS:,} on the enrollments)", b.count("claim"), (made["seconds"] * 1000, None))
    enrollments = b.count("enrollment")
    n = max(20, repeat // 2)
    p = b.param
    anyone = (Person.select(Person.id_number).join(Enrollment, on=(Enrollment.person == Person.id))
              .order_by(Enrollment.id.desc()).scalar())
    city = b.client("bench-city", info["password"])
    b.row("保障信息查询（按证件号码）, city-wide (GET /coverage/?id_number=)", enrollments,
          timed(b.get(city, f"/coverage/?id_number={anyone}"), n), "p95 ≤ 20")
    orm = timed(lambda: coverage.periods(anyone), n)
    raw = timed(b.raw(RAW_PERIODS.format(p=p, scope=""), anyone), n)
    b.row("  data access: 保障信息查询（按证件号码）, city-wide (ORM vs raw SQL)", enrollments, orm, "p95 ≤ 20",
          orm[0] / raw[0])
    district = Organization.get_by_id(info["district"])
    inside = (Person.select(Person.id_number).join(Enrollment, on=(Enrollment.person == Person.id))
              .join(OrgTree, on=(OrgTree.descendant == Enrollment.org))
              .where(OrgTree.ancestor == district.id).order_by(Enrollment.id).scalar())
    if inside:
        client = b.client("bench-district", info["password"])
        b.row("保障信息查询（按证件号码）, a district (its subtree)", enrollments,
              timed(b.get(client, f"/coverage/?id_number={inside}"), n), "p95 ≤ 20")
        orm = timed(lambda: coverage.periods(inside, district.subtree_ids()), n)
        scope = f' AND e."org_id" IN (SELECT "descendant_id" FROM "org_tree" WHERE "ancestor_id" = {p})'
        raw = timed(b.raw(RAW_PERIODS.format(p=p, scope=scope), inside, district.id), n)
        b.row("  data access: 保障信息查询（按证件号码）, a district (ORM vs raw SQL)", enrollments, orm, "p95 ≤ 20",
              orm[0] / raw[0])
    paid = claims.Claim.select(claims.Claim.id_number).order_by(claims.Claim.id).scalar()
    if paid:
        b.row("给付信息查询（按证件号码）, city-wide (GET /coverage/claims?id_number=)", b.count("claim"),
              timed(b.get(city, f"/coverage/claims?id_number={paid}"), n), "p95 ≤ 50")
