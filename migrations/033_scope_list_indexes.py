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
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
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
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_district_id" ON "organization" ("district_id")')
    migrator.sql('DROP INDEX IF EXISTS "organization_district_order"')
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_c" ON "person" ("name" COLLATE "C")')
    else:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_prefix" ON "person" ("name")')
    migrator.sql('DROP INDEX IF EXISTS "membership_name_walk"')
