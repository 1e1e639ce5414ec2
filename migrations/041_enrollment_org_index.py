"""Peewee migrations -- 041_enrollment_org_index.py (issue 19 item 3, 个人参保导入).

"enrollment_org_id" is a prefix of "enrollment_org_id_year_id": every lookup it served (a union's
enrollments, IN lists of unions, org_id IS NULL, the foreign key's ON DELETE SET NULL) is served by
the longer one, and every enrollment written (个人参保导入: 50,000 rows; 集中参保 submissions) paid
for both.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "enrollment_org_id"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "enrollment_org_id" ON "enrollment" ("org_id")')
