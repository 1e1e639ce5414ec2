"""Peewee migrations -- 007_card_confirm.py: 集中参保待确认名单 confirmations (issue 7)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class CardConfirm(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='CASCADE')
        confirmed_at = pw.DateTimeField()

        class Meta:
            table_name = "card_confirm"
            indexes = [(('org', 'year', 'person'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('card_confirm')
