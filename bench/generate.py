"""Benchmark data generator: the spec-80 city by bulk inserts — the organisation tree (16
districts, 200 secondary unions, 50,000 grassroots unions), 1,000,000 members with valid ID
numbers (ten unions with 5,000 each), enterprises, accounts, and the dashboard counters.
`Scale` shrinks it for `make bench-smoke`. Later areas add their tables here (enrollments,
batches) with a generate_* function of the same shape, called from generate_city()."""

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models import db, is_postgres
from models.base import now
from models.orgs.organizations import Organization, OrgTree

CHUNK = 2000
SYNCED = [False, True, True, True, True, True, True, True, None, None]  # 同步会员 否 / 是 / -
RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
RIC_CHECK = "10X98765432"


@dataclass
class Scale:
    districts: int = 16
    secondary: int = 200
    grassroots: int = 50_000
    members: int = 1_000_000
    big_unions: int = 10  # unions with `big_size` members each
    big_size: int = 5_000
    imports: tuple = (5_000, 50_000)  # rows of the two 批量导入 files

    @classmethod
    def from_env(cls) -> "Scale":
        if os.environ.get("BENCH_SCALE") == "smoke":
            return cls(districts=2, secondary=10, grassroots=500, members=20_000, big_unions=2, big_size=5_000,
                       imports=(1_000, 3_000))
        if os.environ.get("BENCH_SCALE") == "tiny":  # the smaller city beside a smoke run (bench/monitor.py)
            return cls(districts=2, secondary=4, grassroots=60, members=3_000, big_unions=1, big_size=1_000,
                       imports=(200, 500))
        return cls()


def ric(body17: str) -> str:
    """GB 11643 check character (same result as python-stdnum, 20x faster in bulk)."""
    return body17 + RIC_CHECK[sum(int(c) * w for c, w in zip(body17, RIC_WEIGHTS, strict=True)) % 11]


def generate_orgs(scale: Scale | None = None) -> dict:
    """Insert the tree into an empty database; returns {'orgs': n, 'seconds': s}."""
    scale = scale or Scale()
    start = time.perf_counter()
    stamp = now()
    rows, tree = [], []
    next_id = 1

    def add(name, type_, level, parent, district, depth):
        nonlocal next_id
        oid = next_id
        next_id += 1
        rows.append({"id": oid, "name": name, "type": type_, "level": level, "parent": parent,
                     "district": district, "depth": depth, "created_at": stamp, "updated_at": stamp,
                     "union_no": f"B{oid:07d}"})
        return oid

    ancestors = {}
    city = add("基准市总工会", "市总工会", "city", None, None, 0)
    ancestors[city] = [city]
    districts = []
    for d in range(scale.districts):
        did = add(f"基准第{d + 1}区总工会", "区总工会", "district", city, None, 1)
        rows[-1]["district"] = did
        ancestors[did] = [did, city]
        districts.append(did)
    secondaries = []
    for s in range(scale.secondary):
        district = districts[s % scale.districts]
        sid = add(f"基准第{s + 1}街道总工会", "街道总工会", "secondary", district, district, 2)
        ancestors[sid] = [sid] + ancestors[district]
        secondaries.append(sid)
    for g in range(scale.grassroots):
        parent = secondaries[g % scale.secondary]
        district = ancestors[parent][1]
        gid = add(f"基准第{g + 1}公司工会委员会", "工会委员会", "grassroots", parent, district, 3)
        ancestors[gid] = [gid] + ancestors[parent]
    for oid, chain in ancestors.items():
        for depth, ancestor in enumerate(chain):
            tree.append({"ancestor": ancestor, "descendant": oid, "depth": depth})
    with db.atomic():
        # parents before children: rows are already in that order
        for i in range(0, len(rows), CHUNK):
            Organization.insert_many(rows[i:i + CHUNK]).execute()
        for i in range(0, len(tree), CHUNK):
            OrgTree.insert_many(tree[i:i + CHUNK]).execute()
    if is_postgres():
        db.execute_sql("SELECT setval(pg_get_serial_sequence('organization', 'id'), %s)", (next_id,))
        settle()
    return {"orgs": len(rows), "closure_rows": len(tree), "seconds": time.perf_counter() - start,
            "district": districts[0], "secondary": secondaries[0], "city": city,
            "grassroots": [oid for oid, chain in ancestors.items() if len(chain) == 4]}


def settle() -> None:
    """After a bulk load: statistics, and on PostgreSQL also VACUUM — what autovacuum does to a
    live database soon after big inserts (its insert threshold). Without it the visibility map
    is empty and every index-only scan still visits the heap: the closure-table lookup behind
    组织列表 read 1,085 heap pages of org_tree for one district (29 ms instead of 15)."""
    if is_postgres():
        db.execute_sql("VACUUM ANALYZE")
    else:
        db.execute_sql("ANALYZE")


def generate_members(grassroots: list, scale: Scale, today: date) -> dict:
    """Bulk-insert people and their memberships: the first `big_unions` unions get `big_size`
    members, the rest share the remainder. Join dates over five years, approved the same day."""
    from models.members.people import Membership, Person
    start = time.perf_counter()
    counts = [scale.big_size] * scale.big_unions
    rest = scale.members - sum(counts)
    others = len(grassroots) - scale.big_unions
    counts += [rest // others + (1 if i < rest % others else 0) for i in range(others)]
    stamp = now()
    people, memberships = [], []
    pid = 0
    is_pg = is_postgres()
    with db.atomic():
        for org_id, n in zip(grassroots, counts, strict=True):
            for _ in range(n):
                pid += 1
                day, seq = pid % 14_000, pid // 14_000  # unique (birth date, sequence) pairs
                birth = date(1966, 1, 1) + timedelta(days=day)
                male = seq % 2 == 1
                number = ric(f"310101{birth:%Y%m%d}{seq:03d}")
                joined = today - timedelta(days=(pid * 7) % 1826)
                people.append({"id": pid, "id_type": "身份证", "id_number": number, "name": f"会员{pid}",
                               "gender": "男" if male else "女", "birth_date": birth,
                               "created_at": stamp})
                memberships.append({"id": pid, "person": pid, "org": org_id, "member_no": f"{3_000_000_000 + pid}",
                                    "person_name": f"会员{pid}", "person_gender": "男" if male else "女",
                                    "person_birth_date": birth,
                                    "mobile": f"139{pid:08d}", "updated_at": stamp,
                                    "address": f"上海市黄浦区基准路{pid % 999 + 1}号",
                                    "work_unit": "基准公司总部运营中心", "synced": SYNCED[pid % 10],
                                    "status": "正常", "join_date": joined,
                                    "approved_at": datetime.combine(joined, datetime.min.time()) + timedelta(hours=10),
                                    "created_at": stamp})
                if len(people) >= CHUNK:
                    Person.insert_many(people).execute()
                    Membership.insert_many(memberships).execute()
                    people, memberships = [], []
        if people:
            Person.insert_many(people).execute()
            Membership.insert_many(memberships).execute()
    if is_pg:
        for table in ("person", "membership"):
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (pid + 1,))
    inserted = time.perf_counter() - start
    from models.members import counts as stats
    stats.rebuild()
    settle()
    return {"members": pid, "seconds": inserted, "counter_seconds": time.perf_counter() - start - inserted,
            "big_union": grassroots[0]}


def generate_enterprises(grassroots: list, per_union: int = 1) -> int:
    from models.demo import make_uscc
    from models.orgs.organizations import Enterprise
    rows = []
    with db.atomic():
        for i, org_id in enumerate(grassroots):
            for k in range(per_union):
                n = i * per_union + k
                rows.append({"org": org_id, "name": f"基准企业{n}", "uscc": make_uscc(f"91310101{n:09d}"),
                             "created_at": now()})
                if len(rows) >= CHUNK:
                    Enterprise.insert_many(rows).execute()
                    rows = []
        if rows:
            Enterprise.insert_many(rows).execute()
    # Statistics for the new rows (the city's VACUUM ANALYZE ran before them): a table the planner
    # believes empty is seq-scanned by each foreign-key check that names it — a rolled-back COPY of
    # 50,000 memberships naming one of the smoke city's 500 enterprises: 2.3 s of server CPU, 1.5 s after this.
    db.execute_sql("ANALYZE enterprise")
    return len(grassroots) * per_union


def generate_city(scale: Scale | None = None, password: str = "bench-pass-1") -> dict:
    """Everything the benchmark times, into an empty (migrated) database."""
    from models.base import today
    from models.orgs.accounts import Account
    scale = scale or Scale.from_env()
    info = generate_orgs(scale)
    info.update(generate_members(info["grassroots"], scale, today()))
    info["enterprises"] = generate_enterprises(info["grassroots"])
    for username, org_id in (("bench-city", info["city"]), ("bench-district", info["district"]),
                             ("bench-big", info["big_union"])):
        account = Account(username=username, org=org_id)
        account.set_password(password)
        account.save()
    info["password"] = password
    from models.stats import tally
    tally.rebuild()  # the monitor's counters, after the bulk inserts
    return info
