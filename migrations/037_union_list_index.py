"""Peewee migrations -- 037_union_list_index.py (issue 19: the unions behind a monitor number).

organization (parent_id, level, id) replaces 023's (parent_id, level): the monitor's list of unions
reads the grassroots unions directly under an organisation in id order from the index and stops at
the page's last row (PostgreSQL: an index-only scan, no sort of the organisation's unions). Every
query of the old index uses its prefix.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_parent_level_id" ON "organization" '
                 '("parent_id", "level", "id")')
    migrator.sql('DROP INDEX IF EXISTS "organization_parent_level"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_parent_level" ON "organization" ("parent_id", "level")')
    migrator.sql('DROP INDEX IF EXISTS "organization_parent_level_id"')
