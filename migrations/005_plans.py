"""Peewee migrations -- 005_plans.py: 会员专享基本保障 settings (issue 7).

Protection years, protection types with their fees (fen), time windows and per-organisation
extensions, districts' fee splits (保障金额设置), credits; the special-subsidy-group flag.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm
    migrator.add_fields('organization', special_subsidy=pw.BooleanField(default=False))

    @migrator.create_model
    class ProtectionYear(pw.Model):
        id = pw.AutoField()
        year = pw.IntegerField(unique=True)
        account_name = pw.CharField(max_length=100, default='上海市职工保障互助中心会员专享保障专户')
        account_no = pw.CharField(max_length=40, default='316023-03002745697')
        bank = pw.CharField(max_length=100, default='上海银行人民广场支行')
        grassroots_signature = pw.CharField(max_length=100, default='上海市总工会职工服务中心')
        district_signature = pw.CharField(max_length=100, default='上海市职工保障互助中心')
        claims_deadline = pw.DateField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "protection_year"

    @migrator.create_model
    class ProtectionType(pw.Model):
        id = pw.AutoField()
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        code = pw.CharField(max_length=10)
        name = pw.CharField(max_length=50)
        benefits = pw.TextField(default='')
        full_fee = pw.IntegerField()
        half_fee = pw.IntegerField()
        subsidy_full = pw.IntegerField()
        subsidy_half = pw.IntegerField()
        special_full = pw.IntegerField(null=True)
        special_half = pw.IntegerField(null=True)
        sort = pw.IntegerField(default=0)

        class Meta:
            table_name = "protection_type"
            indexes = [(('year', 'code'), True)]

    @migrator.create_model
    class Window(pw.Model):
        id = pw.AutoField()
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        kind = pw.CharField(max_length=20)
        starts = pw.DateTimeField()
        ends = pw.DateTimeField()

        class Meta:
            table_name = "time_window"
            indexes = [(('year', 'kind'), True)]

    @migrator.create_model
    class WindowExtension(pw.Model):
        id = pw.AutoField()
        window = pw.ForeignKeyField(column_name='window_id', field='id', model=orm['time_window'], on_delete='CASCADE')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        ends = pw.DateTimeField()
        reason = pw.TextField()
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "window_extension"
            indexes = [(('window', 'org'), True)]

    @migrator.create_model
    class FeeSplit(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        type = pw.ForeignKeyField(column_name='type_id', field='id', model=orm['protection_type'], on_delete='CASCADE')
        district_part = pw.IntegerField()
        grassroots_part = pw.IntegerField()
        valid_from = pw.DateTimeField()
        valid_to = pw.DateTimeField()
        updated_by = pw.ForeignKeyField(column_name='updated_by_id', field='id', model=orm['account'], null=True, on_delete='SET NULL')
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "fee_split"
            indexes = [(('org', 'type'), True)]

    @migrator.create_model
    class Credit(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'], on_delete='CASCADE')
        amount = pw.IntegerField()
        note = pw.CharField(max_length=200, default='')
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "credit"
            indexes = [(('org', 'year'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ('credit', 'fee_split', 'window_extension', 'time_window', 'protection_type', 'protection_year'):
        migrator.remove_model(table)
    migrator.remove_fields('organization', 'special_subsidy')
