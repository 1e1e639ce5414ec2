"""Peewee migrations -- 024_list_indexes.py (issue 19: lists that read their page, not their scope):

- membership (org_id, id): 会员信息 and 卡片信息管理 list by 所在工会, newest first within it, and
  page by a cursor on (org_id, id) — a page of a district walks the closure table's unions in order
  and reads the page's rows from this index (a union's page too), never the district or the city.
- membership (status, org_id, id): the members of one status in order (请选择状态 已转出 / 已删除
  of a district or the city), and the few 待审核 / 转入审核中 rows an unfiltered total adds to the
  会员数 counters.
- person name: 姓名搜索 (exact or prefix) finds the few people of a rare name from the index. On
  PostgreSQL with text_pattern_ops, so that LIKE 'prefix%' uses it whatever the database's collation;
  SQLite compares names by bytes (a range on the same prefix, models/members/roster.starts_with).
- organization (district_id, status, depth, name): 组织列表 of a district (`Organization.subtree`)
  reads its page in order and counts from the index, flat in the size of the city.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    postgres = isinstance(database, pw.PostgresqlDatabase)
    migrator.sql('CREATE INDEX IF NOT EXISTS "membership_org_id_id" ON "membership" ("org_id", "id")')
    migrator.sql('CREATE INDEX IF NOT EXISTS "membership_status_org_id_id" ON "membership" ("status", "org_id", "id")')
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_list" ON "organization" '
                 '("district_id", "status", "depth", "name")')
    if postgres:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_prefix" ON "person" ("name" text_pattern_ops)')
    else:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_prefix" ON "person" ("name")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "person_name_prefix"')
    migrator.sql('DROP INDEX IF EXISTS "organization_list"')
    migrator.sql('DROP INDEX IF EXISTS "membership_status_org_id_id"')
    migrator.sql('DROP INDEX IF EXISTS "membership_org_id_id"')
