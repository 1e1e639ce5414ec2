"""Peewee migrations -- 033_scope_list_indexes.py (issue 19 item 2: lists of a district or the city that
read their page, not the city).

- membership (person_name, org_id[, id]) "membership_name_walk": 姓名搜索 over a district or the city
  reads the membership's own copy of the person's name (030) from this index. The name window of a
  common prefix (roster.name_window: the first NAME_WINDOW + 1 members of the scope in name order)
  walks it and keeps the scope's unions from the index entry alone, so a member of another district
  costs one index entry — before, the walk went through the person name index and looked up each
  person's membership to learn its union (PostgreSQL, the full city's district, 会员1: ≈ 88,000
  buffers). A rare name is read from it too (roster.named), and the city-wide count of a prefix
  (roster.name_matches). On PostgreSQL in the "C" collation (the window's order; LIKE 'prefix%' uses it)
  with id, so that the walk is an index-only scan; SQLite's rowid is in every index already.
- The person name index (024 / 030: person_name_prefix, person_name_c) goes: nothing reads it any more,
  and 批量导入 writes one index fewer per new person for the one it now writes per membership.
- organization (district_id, depth, name, id) "organization_district_order" replaces the plain
  (district_id) index of the district foreign key: 组织列表 of a district with 全部状态 (no status filter)
  reads its page in (depth, name) order from it instead of sorting the district's organisations, and it
  serves everything the old one did (its first column).
- org_subtree_count (org_id, members): the 会员数 counter of each organisation's whole subtree, kept by
  triggers from org_member_count (a union's own count, models/members/counts) and from the closure table
  (an organisation added, moved or removed carries its count to its new ancestors and takes it from the
  old) — whatever writes them (the roster, the imports' bulk bumps, rebuild()). The unfiltered total of a
  district's or the city's 会员信息 (and the 首页 dashboard) reads one row instead of joining the counters
  with the closure table (PostgreSQL hashed all 50,000 unions' counters for one district). Triggers on these
  two small tables, not on membership (see 031): row triggers on SQLite, statement triggers over the
  transition tables on PostgreSQL (a bulk insert of closure rows — 组织导入 — is one statement, not one
  per row). Filled from the counters already there.
"""

import peewee as pw
from peewee_migrate import Migrator

SUBTREE_TABLE = ('CREATE TABLE IF NOT EXISTS "org_subtree_count" ("org_id" INTEGER NOT NULL PRIMARY KEY '
                 'REFERENCES "organization" ("id") ON DELETE CASCADE, "members" INTEGER NOT NULL DEFAULT 0)')
SUBTREE_FILL = ('INSERT INTO "org_subtree_count" ("org_id", "members") SELECT t."ancestor_id", SUM(c."members") '
                'FROM "org_member_count" AS c JOIN "org_tree" AS t ON t."descendant_id" = c."org_id" '
                'GROUP BY t."ancestor_id"')
# add `delta` to every ancestor of `unit` (itself included): upsert where the ancestors are alive
_ADD = ('INSERT INTO "org_subtree_count" ("org_id", "members") SELECT "ancestor_id", {delta} FROM "org_tree" '
        'WHERE "descendant_id" = {unit} ON CONFLICT ("org_id") DO UPDATE SET '
        '"members" = "org_subtree_count"."members" + excluded."members"')
# take it away (an update only: the organisation may be being deleted)
_TAKE = ('UPDATE "org_subtree_count" SET "members" = "members" - {delta} WHERE "org_id" IN '
         '(SELECT "ancestor_id" FROM "org_tree" WHERE "descendant_id" = {unit})')
_LINK = ('INSERT INTO "org_subtree_count" ("org_id", "members") SELECT {ancestor}, "members" FROM "org_member_count" '
         'WHERE "org_id" = {unit} AND "members" <> 0 ON CONFLICT ("org_id") DO UPDATE SET '
         '"members" = "org_subtree_count"."members" + excluded."members"')
_UNLINK = ('UPDATE "org_subtree_count" SET "members" = "members" - COALESCE((SELECT "members" FROM '
           '"org_member_count" WHERE "org_id" = {unit}), 0) WHERE "org_id" = {ancestor}')
SQLITE_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS "subtree_count_insert" AFTER INSERT ON "org_member_count" '
    'WHEN NEW."members" <> 0 BEGIN ' + _ADD.format(delta='NEW."members"', unit='NEW."org_id"') + '; END',
    'CREATE TRIGGER IF NOT EXISTS "subtree_count_update" AFTER UPDATE OF "members" ON "org_member_count" '
    'WHEN NEW."members" <> OLD."members" BEGIN '
    + _ADD.format(delta='NEW."members" - OLD."members"', unit='NEW."org_id"') + '; END',
    'CREATE TRIGGER IF NOT EXISTS "subtree_count_delete" AFTER DELETE ON "org_member_count" '
    'WHEN OLD."members" <> 0 BEGIN ' + _TAKE.format(delta='OLD."members"', unit='OLD."org_id"') + '; END',
    'CREATE TRIGGER IF NOT EXISTS "subtree_count_link" AFTER INSERT ON "org_tree" BEGIN '
    + _LINK.format(ancestor='NEW."ancestor_id"', unit='NEW."descendant_id"') + '; END',
    'CREATE TRIGGER IF NOT EXISTS "subtree_count_unlink" AFTER DELETE ON "org_tree" BEGIN '
    + _UNLINK.format(ancestor='OLD."ancestor_id"', unit='OLD."descendant_id"') + '; END',
)
# PostgreSQL: statement triggers over the transition tables — one statement for a bulk insert of closure rows
# (组织导入) or of counters (rebuild), not one per row
_PG_UPSERT = ('INSERT INTO "org_subtree_count" ("org_id", "members") {select} ON CONFLICT ("org_id") DO UPDATE SET '
              '"members" = "org_subtree_count"."members" + excluded."members"')
_PG_SUBTRACT = ('UPDATE "org_subtree_count" AS s SET "members" = s."members" - x.d FROM ({select}) AS x '
                'WHERE s."org_id" = x.a')
PG_BODIES = {
    "subtree_count_insert": ("org_member_count", "INSERT", "NEW TABLE AS new_rows", _PG_UPSERT.format(
        select='SELECT t."ancestor_id", SUM(c."members") FROM new_rows AS c JOIN "org_tree" AS t '
               'ON t."descendant_id" = c."org_id" WHERE c."members" <> 0 GROUP BY t."ancestor_id"')),
    "subtree_count_update": ("org_member_count", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                             _PG_UPSERT.format(
        select='SELECT t."ancestor_id", SUM(c.d) FROM (SELECT "org_id", "members" AS d FROM new_rows UNION ALL '
               'SELECT "org_id", -"members" FROM old_rows) AS c JOIN "org_tree" AS t ON t."descendant_id" = c."org_id" '
               'GROUP BY t."ancestor_id" HAVING SUM(c.d) <> 0')),
    "subtree_count_delete": ("org_member_count", "DELETE", "OLD TABLE AS old_rows", _PG_SUBTRACT.format(
        select='SELECT t."ancestor_id" AS a, SUM(c."members") AS d FROM old_rows AS c JOIN "org_tree" AS t '
               'ON t."descendant_id" = c."org_id" GROUP BY t."ancestor_id"')),
    "subtree_count_link": ("org_tree", "INSERT", "NEW TABLE AS new_rows", _PG_UPSERT.format(
        select='SELECT n."ancestor_id", SUM(c."members") FROM new_rows AS n JOIN "org_member_count" AS c '
               'ON c."org_id" = n."descendant_id" WHERE c."members" <> 0 GROUP BY n."ancestor_id"')),
    "subtree_count_unlink": ("org_tree", "DELETE", "OLD TABLE AS old_rows", _PG_SUBTRACT.format(
        select='SELECT o."ancestor_id" AS a, SUM(c."members") AS d FROM old_rows AS o JOIN "org_member_count" AS c '
               'ON c."org_id" = o."descendant_id" GROUP BY o."ancestor_id"')),
}
PG_TRIGGERS = tuple(
    statement for name, (table, event, tables, body) in PG_BODIES.items() for statement in (
        f'CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; RETURN NULL; END $$ '
        'LANGUAGE plpgsql',
        f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}" REFERENCING {tables} FOR EACH STATEMENT '
        f'EXECUTE PROCEDURE {name}()'))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql(SUBTREE_TABLE)
    migrator.sql(SUBTREE_FILL)
    for statement in PG_TRIGGERS if isinstance(database, pw.PostgresqlDatabase) else SQLITE_TRIGGERS:
        migrator.sql(statement)
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('CREATE INDEX IF NOT EXISTS "membership_name_walk" ON "membership" '
                     '("person_name" COLLATE "C", "org_id", "id")')
        migrator.sql('DROP INDEX IF EXISTS "person_name_c"')
    else:
        migrator.sql('CREATE INDEX IF NOT EXISTS "membership_name_walk" ON "membership" ("person_name", "org_id")')
        migrator.sql('DROP INDEX IF EXISTS "person_name_prefix"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_district_order" ON "organization" '
                 '("district_id", "depth", "name", "id")')
    migrator.sql('DROP INDEX IF EXISTS "organization_district_id"')
    if isinstance(database, pw.PostgresqlDatabase):  # the planner's statistics of the new indexes
        migrator.sql('ANALYZE "membership"')
        migrator.sql('ANALYZE "organization"')
    else:  # SQLite: only the new indexes (ANALYZE of the table would read its every index)
        migrator.sql('ANALYZE "membership_name_walk"')
        migrator.sql('ANALYZE "organization_district_order"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    postgres = isinstance(database, pw.PostgresqlDatabase)
    for name, (table, *_rest) in PG_BODIES.items():
        migrator.sql(f'DROP TRIGGER IF EXISTS "{name}"' + (f' ON "{table}"' if postgres else ''))
        if postgres:
            migrator.sql(f"DROP FUNCTION IF EXISTS {name}()")
    migrator.sql('DROP TABLE IF EXISTS "org_subtree_count"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_district_id" ON "organization" ("district_id")')
    migrator.sql('DROP INDEX IF EXISTS "organization_district_order"')
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_c" ON "person" ("name" COLLATE "C")')
    else:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_prefix" ON "person" ("name")')
    migrator.sql('DROP INDEX IF EXISTS "membership_name_walk"')
