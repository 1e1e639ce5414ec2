"""Scope-wide rows (issue 19 items 2 and 5): 会员信息, 卡片信息管理 and 组织列表 of a whole district and of
the whole city, every kind of page (first, deep — after a cursor in the middle —, 末页) and the
filters, timed on the smoke city and on the full city in the same run, with the growth ratio
(full ÷ smoke p50) printed beside them: a page whose cost grows with the city is a defect even
under its target (spec 80).

`BENCH_ONLY=scope python -m bench.run` (or `make bench-scope`): the full city is the kept one
(BENCH_SQLITE, default bench/out/bench.db; PostgreSQL BENCH_DATABASE_URL), generated when missing;
the smoke city is kept beside it (BENCH_SMOKE_SQLITE, default bench/out/smoke.db; PostgreSQL
BENCH_SMOKE_DATABASE_URL, only when set; BENCH_SKIP_SQLITE=1 times PostgreSQL alone). Each city is
timed in its own process.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cursor(org_ids: list, pick: float) -> str:
    """A cursor ("org.id") inside the list: the newest membership of the union `pick` of the way
    down the scope's unions that hold members."""
    from models.members.people import Membership
    org = org_ids[int(len(org_ids) * pick)]
    newest = Membership.select(Membership.id).where(Membership.org == org).order_by(Membership.id.desc()).first()
    return f"{org}.{newest.id}"


def scope_urls(info: dict) -> list:
    """(label, account, url) of every scope-wide row."""
    from models.members.people import Membership, Person
    from models.orgs.organizations import OrgTree
    district = info["district"]
    holding = [o for (o,) in Membership.select(Membership.org).distinct().order_by(Membership.org.desc()).tuples()]
    in_district = {d for (d,) in OrgTree.select(OrgTree.descendant).where(OrgTree.ancestor == district).tuples()}
    district_orgs = [o for o in holding if o in in_district]
    rare = Person.select(Person.name).order_by(Person.id.desc()).first().name  # one person's exact name
    number = Person.select(Person.id_number).order_by(Person.id.desc()).first().id_number
    rows = []
    for who, scope, orgs in (("bench-district", "a district", district_orgs), ("bench-city", "the city", holding)):
        deep = _cursor(orgs, 0.5)
        for label, query in (("page 1", ""), ("deep page (cursor mid-way)", f"?after={deep}&page=2000"),
                             ("末页", "?last=1"), ("请选择状态 正常", "?status=正常"),
                             ("同步会员 否", "?synced=否"), ("可能已达退休年龄", "?retirement=1"),
                             ("姓名搜索 common prefix 会员1", "?name=会员1"),
                             ("姓名搜索 one person's name", f"?name={rare}"), ("身份证号搜索", f"?id_number={number}"),
                             ("同步 否 + 退休, 末页", "?synced=否&retirement=1&last=1")):
            rows.append((f"会员信息 of {scope}: {label}", who, "/members/" + query))
        for label, query in (("page 1", ""), ("deep page (cursor mid-way)", f"?after={deep}&page=2000"),
                             ("末页", "?last=1"), ("办卡状态 未办卡", "?state=未办卡"),
                             ("姓名搜索 one person", f"?name={rare}")):
            rows.append((f"卡片信息管理 of {scope}: {label}", who, "/cards/" + query))
    rows.append(("组织列表 of a district: page 1", "bench-district", "/orgs/list"))
    rows.append(("组织列表 of a district: 全部状态, page 100", "bench-district", "/orgs/list?status=&page=100"))
    return rows


def bench_scope(b, info: dict, members: int, timed, repeat: int) -> None:
    """Time every scope-wide row on this database (one city)."""
    clients = {}
    for label, who, url in scope_urls(info):
        client = clients.get(who) or clients.setdefault(who, b.client(who, info["password"]))
        b.row(label, members, timed(b.get(client, url), max(20, repeat // 2)), "p95 ≤ 50")


def cities() -> list[tuple[str, str, str]]:
    """(name, database url, BENCH_SCALE) of the two cities, smoke first."""
    out = []
    for name, env, default, scale in (("smoke", "BENCH_SMOKE_SQLITE", "smoke.db", "smoke"),
                                      ("full", "BENCH_SQLITE", "bench.db", "")):
        if os.environ.get("BENCH_SKIP_SQLITE"):
            break
        out.append((name, f"sqlite:///{os.environ.get(env) or ROOT / 'bench' / 'out' / default}", scale))
    for name, env, scale in (("smoke", "BENCH_SMOKE_DATABASE_URL", "smoke"), ("full", "BENCH_DATABASE_URL", "")):
        if os.environ.get(env):
            out.append((name, os.environ[env], scale))
    return out


def _n(value) -> str:
    return "-" if value is None else f"{value:,}"


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def growth_table(results: dict) -> list[str]:
    """Markdown rows: operation, database, p50 / p95 on each city, and full ÷ smoke (p50)."""
    lines = ["| operation | database | smoke members | smoke p50 / p95 ms | full members | full p50 / p95 ms "
             "| growth (p50 full ÷ smoke) | target ms |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    smoke = {(op, kind): (n, p50, p95) for op, kind, n, p50, p95, _t, _r in results.get("smoke", [])}
    for op, kind, n, p50, p95, target, _r in results.get("full", []):
        if (op, kind) not in smoke:
            continue
        sn, s50, s95 = smoke[(op, kind)]
        growth = f"{p50 / s50:.2f}" if p50 and s50 else "-"
        lines.append(f"| {op} | {kind} | {_n(sn)} | {_ms(s50)} / {_ms(s95)} | {_n(n)} | {_ms(p50)} / {_ms(p95)} "
                     f"| {growth} | {target or '-'} |")
    return lines
