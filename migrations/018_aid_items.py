"""Peewee migrations -- 018_aid_items.py: 保障项目选择 and 保费 (issue 18 item 7).

BatchItem (a batch's ticked items, unique (batch, code), with the fee charged per person and the
item's 免责期) and BatchCoverage (one per batch: 起保日期 / 终保日期, 半年 / 全年, written by 生成保费信息).
AidBatch.premium_total becomes a 64-bit integer: 50,000 people at the richest items (1,125 元 each)
are 5.6 × 10⁹ fen, past PostgreSQL's 32-bit integer.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class BatchItem(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=migrator.orm['aid_batch'],
                                   on_delete='CASCADE')
        code = pw.CharField(max_length=2)
        fee = pw.IntegerField(default=0)
        waiting_days = pw.IntegerField(default=0)
        covered_from = pw.DateField(null=True)

        class Meta:
            table_name = "batch_item"
            indexes = [(('batch', 'code'), True)]

    @migrator.create_model
    class BatchCoverage(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=migrator.orm['aid_batch'],
                                   on_delete='CASCADE', unique=True)
        starts = pw.DateField()
        ends = pw.DateField()
        half = pw.BooleanField(default=False)
        people = pw.IntegerField(default=0)
        generated_by = pw.ForeignKeyField(column_name='generated_by_id', field='id', model=migrator.orm['account'],
                                          null=True, on_delete='SET NULL')
        generated_at = pw.DateTimeField()

        class Meta:
            table_name = "batch_coverage"

    migrator.change_fields('aid_batch', premium_total=pw.BigIntegerField(default=0))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.change_fields('aid_batch', premium_total=pw.IntegerField(default=0))
    migrator.remove_model('batch_coverage')
    migrator.remove_model('batch_item')
