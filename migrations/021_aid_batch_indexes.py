"""Peewee migrations -- 021_aid_batch_indexes.py: 参保批次查询 filtered by 区 or 单位名称 (issue 18
benchmark: on SQLite the counts per state and the page's ids read every matching batch's row to
find its year and state — (org, year, status) and (code, year, status) answer from the index)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "aid_batch_org_year" ON "aid_batch" ("org_id", "year_id", "status")')
    migrator.sql('CREATE INDEX IF NOT EXISTS "aid_batch_code_year" ON "aid_batch" ("code_id", "year_id", "status")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "aid_batch_code_year"')
    migrator.sql('DROP INDEX IF EXISTS "aid_batch_org_year"')
