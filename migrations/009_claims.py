"""Peewee migrations -- 009_claims.py: 给付信息 (issue 8). The number 008 is another change's."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class Claim(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='RESTRICT')
        id_number = pw.CharField(max_length=32)
        name = pw.CharField(max_length=50)
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='RESTRICT')
        enrollment = pw.ForeignKeyField(column_name='enrollment_id', field='id', model=orm['enrollment'], null=True,
                                        on_delete='SET NULL')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                 on_delete='SET NULL')
        claim_date = pw.DateField()
        claim_type = pw.CharField(max_length=10)
        amount = pw.IntegerField()
        note = pw.CharField(default='', max_length=200)
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "claim"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('claim')
