"""Peewee migrations -- 010_review_indexes.py: the 待提交 (queued) submissions through a partial
index (issue 8 benchmark: the district's 待提交 pane, its count and its totals each scanned every
pending submission of the city — 9,580 rows for 100 queued ones)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "submission_queued" ON "submission" ("year_id", "status", "mode") '
                 'WHERE "queued_level" IS NOT NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "submission_queued"')
