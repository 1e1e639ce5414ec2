"""Peewee migrations -- 015_aid_changes.py: 信息变更 and 账号找回申请 (issue 18 items 1–2, 10).

A change request's organisation (its code's, for scope), 单位邮箱 (一般信息变更 takes effect at once, written in 已生效) and the name a
单位名称变更 replaces; AccountRecovery, the 申工通账号找回或密码重置申请表 as a form the centre handles.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm
    migrator.add_fields('code_change',
                        org=pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                               on_delete='SET NULL'),
                        email=pw.CharField(default='', max_length=100),
                        old_unit_name=pw.CharField(default='', max_length=100))

    @migrator.create_model
    class AccountRecovery(pw.Model):
        id = pw.AutoField()
        unit_name = pw.CharField(max_length=100)
        uscc = pw.CharField(index=True, max_length=18)
        code_no = pw.CharField(default='', max_length=20)
        contact = pw.CharField(max_length=50)
        mobile = pw.CharField(max_length=20)
        reason = pw.TextField()
        file_name = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=80)
        content_type = pw.CharField(max_length=40)
        ip = pw.CharField(index=True, max_length=45)
        status = pw.CharField(default='待处理', index=True, max_length=4)
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=orm['account'], null=True,
                                     on_delete='SET NULL')
        reply = pw.TextField(default='')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL', backref='decided_recoveries')
        decided_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "account_recovery"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('account_recovery')
    migrator.remove_fields('code_change', 'org', 'email', 'old_unit_name')
