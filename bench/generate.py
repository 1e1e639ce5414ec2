"""Benchmark data generator: the spec-80 city's organisation tree (16 districts, 200 secondary
unions, 50,000 grassroots unions) by bulk inserts. Later areas add their tables here
(members, enrollments, batches)."""

import time

from models import Organization, OrgTree, db
from models.base import now

DISTRICTS = 16
SECONDARY = 200
GRASSROOTS = 50_000
CHUNK = 2000


def generate_orgs() -> dict:
    """Insert the tree into an empty database; returns {'orgs': n, 'seconds': s}."""
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
    for d in range(DISTRICTS):
        did = add(f"基准第{d + 1}区总工会", "区总工会", "district", city, None, 1)
        rows[-1]["district"] = did
        ancestors[did] = [did, city]
        districts.append(did)
    secondaries = []
    for s in range(SECONDARY):
        district = districts[s % DISTRICTS]
        sid = add(f"基准第{s + 1}街道总工会", "街道总工会", "secondary", district, district, 2)
        ancestors[sid] = [sid] + ancestors[district]
        secondaries.append(sid)
    for g in range(GRASSROOTS):
        parent = secondaries[g % SECONDARY]
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
    if db.obj.__class__.__name__.startswith("Postgres"):
        db.execute_sql("SELECT setval(pg_get_serial_sequence('organization', 'id'), %s)", (next_id,))
        db.execute_sql("ANALYZE")
    return {"orgs": len(rows), "closure_rows": len(tree), "seconds": time.perf_counter() - start,
            "district": districts[0], "secondary": secondaries[0]}
