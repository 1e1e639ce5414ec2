"""Peewee migrations -- 042_claim_once.py (a uniqueness rule as a database constraint).

A claim is recorded once: the same person, 给付日期, 给付类型 and amount is the same claim. The form
and 给付信息导入 refused such a claim after reading the table, so two uploads of one file at the
same moment could both pass the check and record every claim twice. The rule is now the unique
index (person_id, claim_date, claim_type, amount); it also serves every lookup of a person's
claims and the person's ON DELETE RESTRICT check, so "claim_person_id" (its prefix) goes and a
claim still writes one entry for the person.

Claims recorded twice before this migration (only that race could make them) are removed, the
first of each kept, before the index is made.
"""

import peewee as pw
from peewee_migrate import Migrator

INDEX = "claim_person_id_claim_date_claim_type_amount"
LATER_COPIES = ('DELETE FROM "claim" WHERE "id" IN (SELECT c."id" FROM "claim" c WHERE EXISTS ('
                'SELECT 1 FROM "claim" o WHERE o."person_id" = c."person_id" AND o."claim_date" = c."claim_date" '
                'AND o."claim_type" = c."claim_type" AND o."amount" = c."amount" AND o."id" < c."id"))')


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql(LATER_COPIES)
    migrator.sql('DROP INDEX IF EXISTS "claim_person_id"')
    migrator.sql(f'CREATE UNIQUE INDEX IF NOT EXISTS "{INDEX}" ON "claim" '
                 '("person_id", "claim_date", "claim_type", "amount")')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql(f'DROP INDEX IF EXISTS "{INDEX}"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "claim_person_id" ON "claim" ("person_id")')
