"""Peewee migrations -- 019_aid_vouchers.py: the mutual-aid line's money (issue 18 item 8).

互助保障缴费凭证 (AidVoucher: payer, amount paid, the file, the refund and its bank details) and the
batches each pays (AidVoucherBatch: a batch in at most one live voucher — the partial unique index
aid_voucher_one_per_batch); 专用收据 (AidReceiptSet per voucher, its AidReceipt rows).
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class AidVoucher(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='RESTRICT')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                 on_delete='SET NULL')
        payer_name = pw.CharField(max_length=100)
        payer_account = pw.CharField(max_length=40)
        payer_bank = pw.CharField(max_length=100)
        paid = pw.BigIntegerField()
        paid_on = pw.DateField()
        due = pw.BigIntegerField()
        refund = pw.BigIntegerField(default=0)
        refund_name = pw.CharField(default='', max_length=100)
        refund_account = pw.CharField(default='', max_length=40)
        refund_bank = pw.CharField(default='', max_length=100)
        file_name = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=80)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField()
        status = pw.CharField(default='凭证审核中', index=True, max_length=6)
        reason = pw.TextField(default='')
        uploaded_by = pw.ForeignKeyField(column_name='uploaded_by_id', field='id', model=orm['account'], null=True,
                                         on_delete='SET NULL')
        uploaded_at = pw.DateTimeField(index=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL', backref='decided_aid_vouchers')
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "aid_voucher"

    @migrator.create_model
    class AidVoucherBatch(pw.Model):
        id = pw.AutoField()
        voucher = pw.ForeignKeyField(column_name='voucher_id', field='id', model=orm['aid_voucher'],
                                     on_delete='CASCADE')
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['aid_batch'], on_delete='CASCADE')
        amount = pw.BigIntegerField()
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "aid_voucher_batch"

    @migrator.create_model
    class AidReceiptSet(pw.Model):
        id = pw.AutoField()
        voucher = pw.ForeignKeyField(column_name='voucher_id', field='id', model=orm['aid_voucher'],
                                     on_delete='CASCADE', unique=True)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                 on_delete='SET NULL')
        status = pw.CharField(default='待提交', index=True, max_length=6)
        reason = pw.TextField(default='')
        submitted_at = pw.DateTimeField(null=True, index=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL')
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "aid_receipt_set"

    @migrator.create_model
    class AidReceipt(pw.Model):
        id = pw.AutoField()
        receipt_set = pw.ForeignKeyField(column_name='receipt_set_id', field='id', model=orm['aid_receipt_set'],
                                         on_delete='CASCADE')
        title = pw.CharField(max_length=100)
        amount = pw.BigIntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "aid_receipt"

    migrator.sql('CREATE UNIQUE INDEX "aid_voucher_one_per_batch" ON "aid_voucher_batch" ("batch_id") '
                 'WHERE "active"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ('aid_receipt', 'aid_receipt_set', 'aid_voucher_batch', 'aid_voucher'):
        migrator.remove_model(table)
