"""Peewee migrations -- 011_social.py: the social-security-card channel (issue 9).

The last answer of the status provider per person (获取社保卡和就业状态) and the operator's
confirmations in the channel's 参保待确认名单.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class SocialCheck(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='CASCADE',
                                    unique=True)
        card_status = pw.CharField(default='不明确', max_length=4)
        employment = pw.CharField(default='不明确', max_length=4)
        insurance = pw.CharField(default='不明确', max_length=4)
        status_date = pw.DateField(null=True)
        reason = pw.CharField(default='', max_length=200)
        checked_at = pw.DateTimeField()
        job = pw.ForeignKeyField(column_name='job_id', field='id', model=orm['job'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "social_check"

    @migrator.create_model
    class SocialConfirm(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='CASCADE')
        confirmed_at = pw.DateTimeField()

        class Meta:
            table_name = "social_confirm"
            indexes = [(('org', 'year', 'person'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('social_confirm')
    migrator.remove_model('social_check')
