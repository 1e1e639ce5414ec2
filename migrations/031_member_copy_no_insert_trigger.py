"""Peewee migrations -- 031_member_copy_no_insert_trigger.py (issue 19 item 3).

On SQLite, any trigger on INSERT of "membership" — even one whose WHEN is false for every row, or a
bare `WHEN 0` — makes an insert through the table's nine indexes three times dearer: 50,000 rows of
批量导入 took 2.3 s of CPU instead of 0.8 s on the 1,000,000-member city (the trigger's program
runs between the row and its index entries, so SQLite seeks each index from its root instead of
appending where the previous row went). So SQLite's membership_copy_person (030) goes: a membership
is inserted with its person's copies by the application (`Membership.save`, the bulk import), and
the conftest check after every test holds every path to it. The UPDATE triggers stay (a person moved
or renamed), and PostgreSQL keeps all three (its AFTER trigger costs nothing when WHEN is false).
"""

import peewee as pw
from peewee_migrate import Migrator

INSERT_TRIGGER = (  # 030's, for the rollback
    'CREATE TRIGGER IF NOT EXISTS "membership_copy_person" AFTER INSERT ON "membership" '
    'WHEN NEW."person_name" IS NULL BEGIN UPDATE "membership" SET '
    '"person_name" = (SELECT "name" FROM "person" WHERE "id" = NEW."person_id"), '
    '"person_gender" = (SELECT "gender" FROM "person" WHERE "id" = NEW."person_id"), '
    '"person_birth_date" = (SELECT "birth_date" FROM "person" WHERE "id" = NEW."person_id") '
    'WHERE "id" = NEW."id"; END')


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if not isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('DROP TRIGGER IF EXISTS "membership_copy_person"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if not isinstance(database, pw.PostgresqlDatabase):
        migrator.sql(INSERT_TRIGGER)
