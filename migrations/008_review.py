"""Peewee migrations -- 008_review.py: the review chain (issue 8).

District batches (参保批次, CB numbers and their daily counter), payment vouchers and the batches
they cover (a batch under at most one live voucher: a partial unique index), and on
`submission` the queue columns (审核标识, who added it) and the district batch it went into.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class DistrictBatch(pw.Model):
        id = pw.AutoField()
        number = pw.CharField(max_length=20, unique=True)
        district = pw.ForeignKeyField(column_name='district_id', field='id', model=orm['organization'], on_delete='RESTRICT')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=6)
        status = pw.CharField(default='参保审核中', index=True, max_length=8)
        count = pw.IntegerField(default=0)
        card_count = pw.IntegerField(default=0)
        social_count = pw.IntegerField(default=0)
        fee = pw.IntegerField(default=0)
        city = pw.IntegerField(default=0)
        district_part = pw.IntegerField(default=0)
        grassroots_part = pw.IntegerField(default=0)
        credit_used = pw.IntegerField(default=0)
        handler_name = pw.CharField(max_length=50)
        handler_mobile = pw.CharField(max_length=20)
        handler_email = pw.CharField(max_length=100)
        reason = pw.TextField(default='')
        submitted_by = pw.ForeignKeyField(column_name='submitted_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        submitted_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        voucher_at = pw.DateTimeField(null=True)
        feedback_at = pw.DateTimeField(null=True)
        writeoff_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "district_batch"
            indexes = [(('district', 'year'), False)]

    @migrator.create_model
    class PaymentVoucher(pw.Model):
        id = pw.AutoField()
        district = pw.ForeignKeyField(column_name='district_id', field='id', model=orm['organization'], on_delete='RESTRICT')
        file_name = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=80)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField()
        district_amount = pw.IntegerField(default=0)
        grassroots_amount = pw.IntegerField(default=0)
        credit = pw.IntegerField(default=0)
        status = pw.CharField(default='凭证审核中', index=True, max_length=6)
        reason = pw.TextField(default='')
        uploaded_by = pw.ForeignKeyField(column_name='uploaded_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        uploaded_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "payment_voucher"

    @migrator.create_model
    class VoucherItem(pw.Model):
        id = pw.AutoField()
        voucher = pw.ForeignKeyField(column_name='voucher_id', field='id', model=orm['payment_voucher'], on_delete='CASCADE')
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['district_batch'], on_delete='CASCADE')
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "voucher_item"

    @migrator.create_model
    class BatchCounter(pw.Model):
        day = pw.CharField(max_length=8, primary_key=True)
        value = pw.IntegerField(default=0)

        class Meta:
            table_name = "district_batch_counter"

    migrator.sql('CREATE UNIQUE INDEX "voucher_item_one_per_batch" ON "voucher_item" ("batch_id") WHERE "active"')
    migrator.add_fields(
        'submission',
        batch=pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['district_batch'], null=True,
                                 on_delete='SET NULL'),
        queued_level=pw.CharField(max_length=6, null=True),
        queued_by=pw.ForeignKeyField(column_name='queued_by_id', field='id', model=orm['organization'], null=True,
                                     on_delete='SET NULL'),
    )
    migrator.add_index('submission', 'district_batch', unique=False)
    migrator.add_index('submission', 'year', 'status', 'mode', unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('submission', 'year', 'status', 'mode')
    migrator.drop_index('submission', 'district_batch')
    migrator.remove_fields('submission', 'batch', 'queued_level', 'queued_by')
    for table in ('district_batch_counter', 'voucher_item', 'payment_voucher', 'district_batch'):
        migrator.remove_model(table)
