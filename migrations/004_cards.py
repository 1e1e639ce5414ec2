"""Peewee migrations -- 004_cards.py: 会员服务卡 (issue 6).

Cards, the 待办会员列表, card batches and their items, revoke requests; partial unique indexes:
one card that is not 注销 per person, one batch waiting for a card per person, one waiting
revoke request per batch.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def _move_counters(database: pw.Database) -> None:
    """003 named the 会员编号 counter table "counter" — the name huey's SQL storage (in the same
    database) also uses, so whichever was created first won (huey's, when the app had started
    before `flask db upgrade`). Our counters now live in "number_counter"; an old table of ours
    is copied over and dropped (huey recreates its own at the next start)."""
    if "counter" not in database.get_tables():
        return
    if "name" in {c.name for c in database.get_columns("counter")}:
        database.execute_sql('INSERT INTO "number_counter" ("name", "value") SELECT "name", "value" FROM "counter"')
        database.execute_sql('DROP TABLE "counter"')


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class NumberCounter(pw.Model):
        name = pw.CharField(max_length=40, primary_key=True)
        value = pw.BigIntegerField(default=0)

        class Meta:
            table_name = "number_counter"

    migrator.run(_move_counters, database)

    @migrator.create_model
    class CardBatch(pw.Model):
        id = pw.AutoField()
        number = pw.CharField(max_length=20, unique=True)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='RESTRICT')
        status = pw.CharField(default='待报送', index=True, max_length=6)
        count = pw.IntegerField(default=0)
        submitted_at = pw.DateTimeField()
        submitted_by = pw.ForeignKeyField(column_name='submitted_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        exported_at = pw.DateTimeField(null=True)
        exported_by = pw.ForeignKeyField(column_name='exported_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        opened_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "card_batch"
            indexes = [(('org', 'submitted_at'), False)]

    @migrator.create_model
    class Card(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='RESTRICT')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='RESTRICT')
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['card_batch'], null=True, on_delete='SET NULL')
        card_no = pw.CharField(max_length=19, unique=True)
        status = pw.CharField(default='正常', max_length=4)
        issued_date = pw.DateField()
        eligible_from = pw.DateField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "card"

    @migrator.create_model
    class CardPending(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE', index=False)
        membership = pw.ForeignKeyField(column_name='membership_id', field='id', model=orm['membership'], on_delete='CASCADE', unique=True)
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='CASCADE', unique=True)
        added_at = pw.DateTimeField()
        added_by = pw.ForeignKeyField(column_name='added_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        check_state = pw.CharField(default='未校验', max_length=4)
        check_reason = pw.TextField(default='')
        checked_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "card_pending"
            indexes = [(('org', 'check_state'), False)]

    @migrator.create_model
    class CardBatchItem(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['card_batch'], on_delete='CASCADE')
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='RESTRICT')
        membership = pw.ForeignKeyField(column_name='membership_id', field='id', model=orm['membership'], null=True, on_delete='SET NULL')
        state = pw.CharField(default='待开卡', max_length=4)
        name = pw.CharField(max_length=50)
        id_type = pw.CharField(max_length=20)
        id_number = pw.CharField(max_length=32, index=True)
        gender = pw.CharField(default='', max_length=2)
        birth_date = pw.DateField(null=True)
        id_expiry = pw.DateField(null=True)
        mobile = pw.CharField(default='', max_length=11, index=True)
        work_unit = pw.CharField(default='', max_length=100)
        card = pw.ForeignKeyField(column_name='card_id', field='id', model=orm['card'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "card_batch_item"
            indexes = [(('batch', 'person'), True)]

    @migrator.create_model
    class CardRevokeRequest(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['card_batch'], on_delete='CASCADE')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        reason = pw.TextField()
        status = pw.CharField(default='待审核', index=True, max_length=4)
        note = pw.TextField(default='')
        filed_by = pw.ForeignKeyField(column_name='filed_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "card_revoke_request"

    migrator.sql('CREATE UNIQUE INDEX "card_one_per_person" ON "card" ("person_id") '
                 "WHERE (\"status\" IN ('正常', '挂失'))")
    migrator.sql('CREATE UNIQUE INDEX "card_item_one_waiting_per_person" ON "card_batch_item" ("person_id") '
                 "WHERE (\"state\" = '待开卡')")
    migrator.sql('CREATE UNIQUE INDEX "card_revoke_one_waiting_per_batch" ON "card_revoke_request" ("batch_id") '
                 "WHERE (\"status\" = '待审核')")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('card_revoke_request')
    migrator.remove_model('card_batch_item')
    migrator.remove_model('card_pending')
    migrator.remove_model('card')
    migrator.remove_model('card_batch')
    migrator.remove_model('number_counter')
