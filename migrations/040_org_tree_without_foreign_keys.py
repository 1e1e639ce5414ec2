"""Peewee migrations -- 040_org_tree_without_foreign_keys.py (issue 19 item 3, 组织导入 on PostgreSQL).

- The closure table's two foreign keys into organization go. The table is derived data — the
  closure of organization.parent_id, written only with the organisations it follows
  (Organization.add / move, 组织导入), from rows read in the same transaction — and every closure
  row written paid two foreign-key checks (PostgreSQL: a `SELECT … FOR KEY SHARE` of the
  organisation each): 组织导入 of 5,000 organisations writes 20,000 closure rows, 40,000 checks,
  more than half of the import's server time. What the keys did on delete (ON DELETE CASCADE) a
  trigger on organization does now: an organisation deleted, by whatever path, takes its closure
  rows with it (PostgreSQL: one statement trigger over the deleted rows; SQLite: a row trigger).
  SQLite cannot drop a foreign key in place: org_tree is rebuilt (its rows, its index and its two
  counter triggers of migration 033 kept).
- organization "organization_parent_id" (parent_id) goes: it is the prefix of
  "organization_parent_level_id" (parent_id, level, id, migration 037), which serves every lookup
  by parent (the children of an organisation, the foreign key's RESTRICT check), and every new
  organisation paid for both.
"""

import peewee as pw
from peewee_migrate import Migrator

# PostgreSQL: the closure rows of the deleted organisations, as ON DELETE CASCADE removed them (two
# statements, each a semi-join on its own index: the primary key leads with ancestor_id,
# orgtree_descendant_id_depth with descendant_id)
PG_FORGET = (
    'CREATE OR REPLACE FUNCTION org_tree_forget() RETURNS trigger AS $$ BEGIN '
    'DELETE FROM "org_tree" WHERE "descendant_id" IN (SELECT "id" FROM old_rows); '
    'DELETE FROM "org_tree" WHERE "ancestor_id" IN (SELECT "id" FROM old_rows); '
    'RETURN NULL; END $$ LANGUAGE plpgsql',
    'CREATE TRIGGER "org_tree_forget" AFTER DELETE ON "organization" REFERENCING OLD TABLE AS old_rows '
    'FOR EACH STATEMENT EXECUTE PROCEDURE org_tree_forget()',
)
SQLITE_FORGET = (
    'CREATE TRIGGER IF NOT EXISTS "org_tree_forget" AFTER DELETE ON "organization" BEGIN '
    'DELETE FROM "org_tree" WHERE "descendant_id" = OLD."id"; '
    'DELETE FROM "org_tree" WHERE "ancestor_id" = OLD."id"; END'
)
SQLITE_TABLE = ('CREATE TABLE "{name}" ("ancestor_id" INTEGER NOT NULL, "descendant_id" INTEGER NOT NULL, '
                '"depth" INTEGER NOT NULL, PRIMARY KEY ("ancestor_id", "descendant_id"){keys})')
SQLITE_KEYS = (', FOREIGN KEY ("ancestor_id") REFERENCES "organization" ("id") ON DELETE CASCADE, '
               'FOREIGN KEY ("descendant_id") REFERENCES "organization" ("id") ON DELETE CASCADE')


def _sqlite_rebuild(migrator: Migrator, database: pw.Database, keys: str) -> None:
    """org_tree again with or without its foreign keys (SQLite cannot alter a table's constraints):
    a new table, the rows, the old dropped and the new renamed; its index made again, and every
    trigger that names it (its own two, dropped with it, and org_member_count's three, which the
    rename would refuse while their table is missing) dropped first and made again as it was —
    but org_tree_forget, which this migration adds and its rollback drops (the rebuild's list is
    read before that drop runs)."""
    triggers = database.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                    "AND sql LIKE '%\"org_tree\"%' AND name != 'org_tree_forget'").fetchall()
    for name, _sql in triggers:
        migrator.sql(f'DROP TRIGGER IF EXISTS "{name}"')
    migrator.sql(SQLITE_TABLE.format(name="org_tree_new", keys=keys))
    migrator.sql('INSERT INTO "org_tree_new" ("ancestor_id", "descendant_id", "depth") '
                 'SELECT "ancestor_id", "descendant_id", "depth" FROM "org_tree"')
    migrator.sql('DROP TABLE "org_tree"')
    migrator.sql('ALTER TABLE "org_tree_new" RENAME TO "org_tree"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "orgtree_descendant_id_depth" ON "org_tree" ("descendant_id", "depth")')
    for _name, sql in triggers:
        migrator.sql(sql)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('ALTER TABLE "org_tree" DROP CONSTRAINT IF EXISTS "org_tree_ancestor_id_fkey"')
        migrator.sql('ALTER TABLE "org_tree" DROP CONSTRAINT IF EXISTS "org_tree_descendant_id_fkey"')
        for statement in PG_FORGET:
            migrator.sql(statement)
    else:
        if not fake:
            _sqlite_rebuild(migrator, database, keys="")
        migrator.sql(SQLITE_FORGET)
    migrator.sql('DROP INDEX IF EXISTS "organization_parent_id"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_parent_id" ON "organization" ("parent_id")')
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.sql('DROP TRIGGER IF EXISTS "org_tree_forget" ON "organization"')
        migrator.sql("DROP FUNCTION IF EXISTS org_tree_forget()")
        migrator.sql('ALTER TABLE "org_tree" ADD CONSTRAINT "org_tree_ancestor_id_fkey" FOREIGN KEY ("ancestor_id") '
                     'REFERENCES "organization" ("id") ON DELETE CASCADE')
        migrator.sql('ALTER TABLE "org_tree" ADD CONSTRAINT "org_tree_descendant_id_fkey" FOREIGN KEY '
                     '("descendant_id") REFERENCES "organization" ("id") ON DELETE CASCADE')
    else:
        migrator.sql('DROP TRIGGER IF EXISTS "org_tree_forget"')
        if not fake:
            _sqlite_rebuild(migrator, database, keys=SQLITE_KEYS)
