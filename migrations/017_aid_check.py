"""Peewee migrations -- 017_aid_check.py: 清册校验's records (issue 18 items 6, 9, 10).

BatchAttachment (上传附件 of a batch: 附件类型, the stored file, who and when) and RosterConfirmation
(人员确认 of a batch's 清册未能匹配人员: one per batch, with the digest of the people confirmed).
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class BatchAttachment(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['aid_batch'], on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        file_name = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=80)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField()
        uploaded_by = pw.ForeignKeyField(column_name='uploaded_by_id', field='id', model=orm['account'], null=True,
                                         on_delete='SET NULL')
        uploaded_at = pw.DateTimeField()

        class Meta:
            table_name = "batch_attachment"

    @migrator.create_model
    class RosterConfirmation(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['aid_batch'], on_delete='CASCADE',
                                   unique=True)
        digest = pw.CharField(max_length=64)
        people = pw.IntegerField()
        confirmed_by = pw.ForeignKeyField(column_name='confirmed_by_id', field='id', model=orm['account'],
                                          null=True, on_delete='SET NULL')
        confirmed_at = pw.DateTimeField()

        class Meta:
            table_name = "roster_confirmation"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('roster_confirmation')
    migrator.remove_model('batch_attachment')
