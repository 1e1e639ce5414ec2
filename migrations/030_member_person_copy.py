"""Peewee migrations -- 030_member_person_copy.py (issue 19 item 2: 姓名搜索 and 可能已达退休年龄 of a
union read the union's memberships, not one person row per member).

membership.person_name / person_gender / person_birth_date: copies of the person's 姓名, 性别 and 出生日期,
so that the roster's name and retirement filters (models/members/roster.py) and 卡片信息管理's name
search filter and count a union's rows on membership alone. The database keeps them in step, whatever
writes (新增会员, the imports' bulk inserts, 编辑 and 信息修改审核, 转出 / 转入, 同步会员, 证件信息更正):

- membership_copy_person: a membership inserted without them (person_name NULL) — or moved to another
  person — takes them from its person (an AFTER trigger, so PostgreSQL's COPY still inserts in batches;
  the bulk import gives them itself and the trigger does not fire);
- person_copy_to_memberships: a changed 姓名 / 性别 / 出生日期 goes to every membership of the person.

And on PostgreSQL the person name index becomes "person_name_c" (name COLLATE "C") instead of 024's
text_pattern_ops one: it serves LIKE 'prefix%' the same way and also the name order of the name window
(roster.name_window: ORDER BY name COLLATE "C"), which text_pattern_ops could not give — the city's window
of a common prefix sorted all 111,111 people who carry it.

The migration fills them from the rows already there (one UPDATE, then ANALYZE; a PostgreSQL city of
1,000,000 members wants the VACUUM autovacuum would do before it is timed — bench/generate.settle).
"""

import peewee as pw
from peewee_migrate import Migrator

COLUMNS = ('ALTER TABLE "membership" ADD COLUMN "person_name" VARCHAR(50)',
           'ALTER TABLE "membership" ADD COLUMN "person_gender" VARCHAR(2)',
           'ALTER TABLE "membership" ADD COLUMN "person_birth_date" DATE')

PG_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION membership_copy_person() RETURNS trigger AS $$
BEGIN
  UPDATE "membership" AS m SET "person_name" = p."name", "person_gender" = p."gender",
         "person_birth_date" = p."birth_date"
    FROM "person" AS p WHERE p."id" = NEW."person_id" AND m."id" = NEW."id";
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION person_copy_to_memberships() RETURNS trigger AS $$
BEGIN
  UPDATE "membership" SET "person_name" = NEW."name", "person_gender" = NEW."gender",
         "person_birth_date" = NEW."birth_date" WHERE "person_id" = NEW."id";
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    'CREATE TRIGGER "membership_copy_person" AFTER INSERT ON "membership" FOR EACH ROW '
    'WHEN (NEW."person_name" IS NULL) EXECUTE PROCEDURE membership_copy_person()',
    'CREATE TRIGGER "membership_copy_person_moved" AFTER UPDATE OF "person_id" ON "membership" FOR EACH ROW '
    'WHEN (OLD."person_id" IS DISTINCT FROM NEW."person_id") EXECUTE PROCEDURE membership_copy_person()',
    'CREATE TRIGGER "person_copy_to_memberships" AFTER UPDATE OF "name", "gender", "birth_date" ON "person" '
    'FOR EACH ROW WHEN (OLD."name" IS DISTINCT FROM NEW."name" OR OLD."gender" IS DISTINCT FROM NEW."gender" '
    'OR OLD."birth_date" IS DISTINCT FROM NEW."birth_date") EXECUTE PROCEDURE person_copy_to_memberships()',
)

_SQLITE_COPY = ('UPDATE "membership" SET '
                '"person_name" = (SELECT "name" FROM "person" WHERE "id" = NEW."person_id"), '
                '"person_gender" = (SELECT "gender" FROM "person" WHERE "id" = NEW."person_id"), '
                '"person_birth_date" = (SELECT "birth_date" FROM "person" WHERE "id" = NEW."person_id") '
                'WHERE "id" = NEW."id";')
SQLITE_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS "membership_copy_person" AFTER INSERT ON "membership" '
    f'WHEN NEW."person_name" IS NULL BEGIN {_SQLITE_COPY} END',
    'CREATE TRIGGER IF NOT EXISTS "membership_copy_person_moved" AFTER UPDATE OF "person_id" ON "membership" '
    f'WHEN OLD."person_id" IS NOT NEW."person_id" BEGIN {_SQLITE_COPY} END',
    'CREATE TRIGGER IF NOT EXISTS "person_copy_to_memberships" AFTER UPDATE OF "name", "gender", "birth_date" '
    'ON "person" WHEN OLD."name" IS NOT NEW."name" OR OLD."gender" IS NOT NEW."gender" '
    'OR OLD."birth_date" IS NOT NEW."birth_date" BEGIN '
    'UPDATE "membership" SET "person_name" = NEW."name", "person_gender" = NEW."gender", '
    '"person_birth_date" = NEW."birth_date" WHERE "person_id" = NEW."id"; END',
)

FILL_PG = ('UPDATE "membership" AS m SET "person_name" = p."name", "person_gender" = p."gender", '
           '"person_birth_date" = p."birth_date" FROM "person" AS p WHERE p."id" = m."person_id"')
FILL_SQLITE = ('UPDATE "membership" SET ("person_name", "person_gender", "person_birth_date") = '
               '(SELECT "name", "gender", "birth_date" FROM "person" WHERE "person"."id" = "membership"."person_id")')


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    postgres = isinstance(database, pw.PostgresqlDatabase)
    for statement in COLUMNS:
        migrator.sql(statement)
    migrator.sql(FILL_PG if postgres else FILL_SQLITE)
    migrator.sql('ANALYZE "membership"')
    for statement in PG_FUNCTIONS if postgres else SQLITE_TRIGGERS:
        migrator.sql(statement)
    if postgres:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_c" ON "person" ("name" COLLATE "C")')
        migrator.sql('DROP INDEX IF EXISTS "person_name_prefix"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    postgres = isinstance(database, pw.PostgresqlDatabase)
    if postgres:
        migrator.sql('CREATE INDEX IF NOT EXISTS "person_name_prefix" ON "person" ("name" text_pattern_ops)')
        migrator.sql('DROP INDEX IF EXISTS "person_name_c"')
    migrator.sql('DROP TRIGGER IF EXISTS "person_copy_to_memberships"' + (' ON "person"' if postgres else ''))
    for name in ("membership_copy_person_moved", "membership_copy_person"):
        migrator.sql(f'DROP TRIGGER IF EXISTS "{name}"' + (' ON "membership"' if postgres else ''))
    if postgres:
        migrator.sql("DROP FUNCTION IF EXISTS person_copy_to_memberships()")
        migrator.sql("DROP FUNCTION IF EXISTS membership_copy_person()")
    for column in ("person_birth_date", "person_gender", "person_name"):
        migrator.sql(f'ALTER TABLE "membership" DROP COLUMN "{column}"')
