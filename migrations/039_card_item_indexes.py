"""Peewee migrations -- 039_card_item_indexes.py (issue 19 item 3, 开卡回盘导入).

开卡回盘导入 moves every item of the file from 待开卡 to 已开卡 in one UPDATE. On PostgreSQL that is
never a HOT update (`state` is the predicate of the partial unique index "a person waits in one
batch"), so each item wrote a new entry into every index of card_batch_item — nine, eight of them
taking the new row. Now:

- `card_id` goes (its index, its foreign key and its check a row): an item's card is the card of
  the item's person from the item's batch (models/cards/card_batches.with_cards), the card the
  return file made for it;
- "cardbatchitem_batch_id" goes: the unique (batch_id, person_id) leads with it;
- the mobile index holds the waiting items only (the 待办会员 check's one lookup), so an item
  leaving 待开卡 writes nothing into it.

An item 已开卡 then writes into five indexes (the primary key, (batch_id, person_id), person_id —
the person's foreign key —, membership_id — the membership's ON DELETE SET NULL — and id_number,
the return file's lookup) instead of eight, and has no foreign-key check.

The cards' "card_org_id" goes: nothing looks a card up by the union that applied (an
organisation is never deleted by the app; a deletion's RESTRICT check would scan), and the return
file writes tens of thousands of cards at once through every index of the table.

`person.has_card` goes too: 已办会员卡 is read from the cards (models/cards/cards.holders, the
partial unique index "card_one_per_person"). The import rewrote every person of the file for it —
never HOT either, the person table's pages being full — a new row version and two index entries
a person, a fifth of the import's time on PostgreSQL.
"""

import peewee as pw
from peewee_migrate import Migrator

WAITING = "待开卡"
COLUMNS = ('"id", "batch_id", "person_id", "membership_id", "state", "name", "id_type", "id_number", "gender", '
           '"birth_date", "id_expiry", "mobile", "work_unit"')
SQLITE_TABLE = (  # 004's table without "card_id"
    'CREATE TABLE "card_batch_item_039" ("id" INTEGER NOT NULL PRIMARY KEY, "batch_id" INTEGER NOT NULL, '
    '"person_id" INTEGER NOT NULL, "membership_id" INTEGER, "state" VARCHAR(4) NOT NULL, "name" VARCHAR(50) NOT NULL, '
    '"id_type" VARCHAR(20) NOT NULL, "id_number" VARCHAR(32) NOT NULL, "gender" VARCHAR(2) NOT NULL, '
    '"birth_date" DATE, "id_expiry" DATE, "mobile" VARCHAR(11) NOT NULL, "work_unit" VARCHAR(100) NOT NULL, '
    'FOREIGN KEY ("batch_id") REFERENCES "card_batch" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("person_id") REFERENCES "person" ("id") ON DELETE RESTRICT, '
    'FOREIGN KEY ("membership_id") REFERENCES "membership" ("id") ON DELETE SET NULL)')
SQLITE_INDEXES = (  # the table's indexes that stay (004's)
    'CREATE INDEX "cardbatchitem_person_id" ON "card_batch_item" ("person_id")',
    'CREATE INDEX "cardbatchitem_membership_id" ON "card_batch_item" ("membership_id")',
    'CREATE INDEX "cardbatchitem_id_number" ON "card_batch_item" ("id_number")',
    'CREATE UNIQUE INDEX "cardbatchitem_batch_id_person_id" ON "card_batch_item" ("batch_id", "person_id")',
    'CREATE UNIQUE INDEX "card_item_one_waiting_per_person" ON "card_batch_item" ("person_id") '
    f"WHERE (\"state\" = '{WAITING}')",
)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.PostgresqlDatabase):
        migrator.remove_fields('card_batch_item', 'card')  # its index and foreign key with it
    else:
        # SQLite drops no column of a foreign key in place (nor does peewee's ALTER … DROP COLUMN):
        # the table is rebuilt (foreign keys are off during an upgrade; nothing references it)
        model = migrator.orm['card_batch_item']
        migrator.__del_field__(model, model._meta.fields['card'])
        migrator.sql(SQLITE_TABLE)
        migrator.sql(f'INSERT INTO "card_batch_item_039" ({COLUMNS}) SELECT {COLUMNS} FROM "card_batch_item"')
        migrator.sql('DROP TABLE "card_batch_item"')
        migrator.sql('ALTER TABLE "card_batch_item_039" RENAME TO "card_batch_item"')
        for statement in SQLITE_INDEXES:
            migrator.sql(statement)
    migrator.sql('DROP INDEX IF EXISTS "cardbatchitem_batch_id"')
    migrator.sql('DROP INDEX IF EXISTS "cardbatchitem_mobile"')
    migrator.remove_fields('person', 'has_card')
    migrator.sql('DROP INDEX IF EXISTS "card_org_id"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "card_item_waiting_mobile" ON "card_batch_item" ("mobile") '
                 f"WHERE (\"state\" = '{WAITING}')")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "card_org_id" ON "card" ("org_id")')
    false = 'false' if isinstance(database, pw.PostgresqlDatabase) else '0'  # in place (no rebuild of person)
    migrator.sql(f'ALTER TABLE "person" ADD COLUMN "has_card" BOOLEAN NOT NULL DEFAULT {false}')
    migrator.sql('UPDATE "person" SET "has_card" = EXISTS (SELECT 1 FROM "card" WHERE "card"."person_id" = '
                 "\"person\".\"id\" AND \"card\".\"status\" IN ('正常', '挂失'))")
    migrator.sql('CREATE INDEX IF NOT EXISTS "cardbatchitem_mobile" ON "card_batch_item" ("mobile")')
    migrator.sql('DROP INDEX IF EXISTS "card_item_waiting_mobile"')
    migrator.sql('CREATE INDEX IF NOT EXISTS "cardbatchitem_batch_id" ON "card_batch_item" ("batch_id")')
    migrator.add_fields('card_batch_item', card=pw.ForeignKeyField(
        column_name='card_id', field='id', model=migrator.orm['card'], null=True, on_delete='SET NULL'))
    migrator.sql('UPDATE "card_batch_item" SET "card_id" = (SELECT "card"."id" FROM "card" '
                 'WHERE "card"."batch_id" = "card_batch_item"."batch_id" '
                 'AND "card"."person_id" = "card_batch_item"."person_id")')
