"""Peewee migrations -- 006_enrollment.py: the enrollment model of both channels (issue 7).

Submissions, enrollments (one active per person and protection year: a partial unique index),
the per-union type lock, the status registry.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class Submission(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='RESTRICT')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='RESTRICT')
        channel = pw.CharField(max_length=6)
        mode = pw.CharField(max_length=6)
        type = pw.ForeignKeyField(column_name='type_id', field='id', model=orm['protection_type'], on_delete='RESTRICT')
        status = pw.CharField(default='区局确认中', index=True, max_length=6)
        count = pw.IntegerField(default=0)
        fee = pw.IntegerField(default=0)
        city = pw.IntegerField(default=0)
        district = pw.IntegerField(default=0)
        grassroots = pw.IntegerField(default=0)
        reason = pw.TextField(default='')
        district_batch = pw.CharField(max_length=20, null=True)
        submitted_by = pw.ForeignKeyField(column_name='submitted_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        submitted_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "submission"
            indexes = [(('org', 'year'), False)]

    @migrator.create_model
    class Enrollment(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=orm['person'], on_delete='RESTRICT')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='RESTRICT')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True, on_delete='SET NULL')
        submission = pw.ForeignKeyField(column_name='submission_id', field='id', model=orm['submission'], null=True, on_delete='CASCADE')
        source = pw.CharField(default='基层工会', max_length=6)
        channel = pw.CharField(max_length=6)
        mode = pw.CharField(max_length=6)
        type = pw.ForeignKeyField(column_name='type_id', field='id', model=orm['protection_type'], null=True, on_delete='SET NULL')
        start = pw.DateField()
        end = pw.DateField()
        period = pw.CharField(max_length=2)
        fee = pw.IntegerField(default=0)
        city = pw.IntegerField(default=0)
        district = pw.IntegerField(default=0)
        grassroots = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "enrollment"
            indexes = [(('org', 'year'), False)]

    @migrator.create_model
    class TypeLock(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        type = pw.ForeignKeyField(column_name='type_id', field='id', model=orm['protection_type'], on_delete='CASCADE')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "type_lock"
            indexes = [(('org', 'year'), True)]

    @migrator.create_model
    class StatusRecord(pw.Model):
        id = pw.AutoField()
        id_number = pw.CharField(max_length=32, unique=True)
        name = pw.CharField(default='', max_length=50)
        card_status = pw.CharField(default='不明确', max_length=4)
        employment = pw.CharField(default='不明确', max_length=4)
        insurance = pw.CharField(default='不明确', max_length=4)
        status_date = pw.DateField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "status_record"

    migrator.sql('CREATE UNIQUE INDEX "enrollment_once_per_year" ON "enrollment" ("year_id", "person_id") '
                 'WHERE "active"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ('status_record', 'type_lock', 'enrollment', 'submission'):
        migrator.remove_model(table)
