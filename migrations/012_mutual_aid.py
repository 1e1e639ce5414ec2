"""Peewee migrations -- 012_mutual_aid.py: the mutual-aid line's data layer (issue 18 items 1, 2, 9).

Insurance codes (one per platform account), their units (a unit name and a 统一社会信用代码 have at
most one code), handlers, change requests (one waiting per code: a partial unique index) and
files; the protection year (1 Jul – 30 Jun) with its windows, extensions and item prices; batches
(one centralized batch per code and year: a partial unique index) and roster entries (one ID
number insured at most once per protection year across all units: a partial unique index).
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class InsuranceCode(pw.Model):
        id = pw.AutoField()
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=orm['account'], on_delete='RESTRICT',
                                     unique=True)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                 on_delete='SET NULL')
        unit_name = pw.CharField(max_length=100)
        uscc = pw.CharField(max_length=18)
        address = pw.CharField(max_length=200)
        contact = pw.CharField(max_length=50)
        phone = pw.CharField(max_length=20)
        email = pw.CharField(default='', max_length=100)
        code = pw.CharField(max_length=20, null=True, unique=True)
        status = pw.CharField(default='申请中', index=True, max_length=6)
        reason = pw.TextField(default='')
        applied_at = pw.DateTimeField()
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL', backref='decided_codes')
        decided_at = pw.DateTimeField(null=True)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "insurance_code"

    @migrator.create_model
    class CodeUnit(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='CASCADE')
        name = pw.CharField(max_length=100, unique=True)
        uscc = pw.CharField(max_length=18, null=True, unique=True)
        is_main = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "code_unit"

    @migrator.create_model
    class CodeHandler(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='CASCADE',
                                  unique=True)
        name = pw.CharField(max_length=50)
        mobile = pw.CharField(max_length=20)
        email = pw.CharField(max_length=100)
        updated_by = pw.ForeignKeyField(column_name='updated_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL')
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "code_handler"

    @migrator.create_model
    class CodeChange(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='CASCADE')
        kind = pw.CharField(max_length=6)
        address = pw.CharField(default='', max_length=200)
        handler_name = pw.CharField(default='', max_length=50)
        handler_mobile = pw.CharField(default='', max_length=20)
        handler_email = pw.CharField(default='', max_length=100)
        unit_name = pw.CharField(default='', max_length=100)
        status = pw.CharField(default='待审核', index=True, max_length=4)
        reason = pw.TextField(default='')
        requested_by = pw.ForeignKeyField(column_name='requested_by_id', field='id', model=orm['account'], null=True,
                                          on_delete='SET NULL')
        requested_at = pw.DateTimeField()
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL', backref='decided_changes')
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "code_change"

    @migrator.create_model
    class CodeFile(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='CASCADE')
        change = pw.ForeignKeyField(column_name='change_id', field='id', model=orm['code_change'], null=True,
                                    on_delete='CASCADE')
        kind = pw.CharField(max_length=10)
        file_name = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=80)
        content_type = pw.CharField(max_length=40)
        size = pw.IntegerField()
        uploaded_at = pw.DateTimeField()

        class Meta:
            table_name = "code_file"

    @migrator.create_model
    class AidYear(pw.Model):
        id = pw.AutoField()
        year = pw.IntegerField(unique=True)
        account_name = pw.CharField(default='上海市职工保障互助会', max_length=100)
        account_no = pw.CharField(default='31602300008022150', max_length=40)
        bank = pw.CharField(default='上海银行人民广场支行', max_length=100)
        basic_combo_fee = pw.IntegerField(default=18000)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "aid_year"

    @migrator.create_model
    class AidWindow(pw.Model):
        id = pw.AutoField()
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['aid_year'], on_delete='CASCADE')
        kind = pw.CharField(max_length=4)
        starts = pw.DateTimeField()
        ends = pw.DateTimeField()

        class Meta:
            table_name = "aid_window"
            indexes = [(('year', 'kind'), True)]

    @migrator.create_model
    class AidWindowExtension(pw.Model):
        id = pw.AutoField()
        window = pw.ForeignKeyField(column_name='window_id', field='id', model=orm['aid_window'], on_delete='CASCADE')
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='CASCADE')
        ends = pw.DateTimeField()
        reason = pw.TextField()
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "aid_window_extension"
            indexes = [(('window', 'code'), True)]

    @migrator.create_model
    class AidItem(pw.Model):
        id = pw.AutoField()
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['aid_year'], on_delete='CASCADE')
        code = pw.CharField(max_length=2)
        line = pw.CharField(max_length=4)
        full_fee = pw.IntegerField()
        half_fee = pw.IntegerField()
        sort = pw.IntegerField(default=0)

        class Meta:
            table_name = "aid_item"
            indexes = [(('year', 'code'), True)]

    @migrator.create_model
    class AidBatch(pw.Model):
        id = pw.AutoField()
        code = pw.ForeignKeyField(column_name='code_id', field='id', model=orm['insurance_code'], on_delete='RESTRICT')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], null=True,
                                 on_delete='SET NULL')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['aid_year'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=4)
        status = pw.CharField(default='清册待校验', index=True, max_length=8)
        reason = pw.TextField(default='')
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=orm['account'], null=True,
                                        on_delete='SET NULL')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "aid_batch"
            indexes = [(('year', 'status'), False)]

    @migrator.create_model
    class RosterEntry(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=orm['aid_batch'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['aid_year'], on_delete='RESTRICT')
        id_type = pw.CharField(default='居民身份证', max_length=12)
        id_number = pw.CharField(max_length=32)
        name = pw.CharField(max_length=50)
        gender = pw.CharField(max_length=1)
        birth_date = pw.DateField()
        has_social_insurance = pw.BooleanField(default=False)
        employment = pw.CharField(default='-', max_length=2)
        source = pw.CharField(default='本地上传', max_length=8)
        imported_name = pw.CharField(default='', max_length=50)
        member_name = pw.CharField(default='', max_length=50)
        registry_name = pw.CharField(default='', max_length=50)
        registry_matched = pw.BooleanField(default=False)
        name_confirmed = pw.BooleanField(default=False)
        still_paying = pw.BooleanField(default=False)
        medical_in_service = pw.BooleanField(default=False)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "roster_entry"

    migrator.sql('CREATE UNIQUE INDEX "code_change_one_waiting" ON "code_change" ("code_id") '
                 "WHERE \"status\" = '待审核'")
    migrator.sql('CREATE UNIQUE INDEX "aid_batch_one_central" ON "aid_batch" ("code_id", "year_id") '
                 "WHERE \"kind\" = '集中参保'")
    migrator.sql('CREATE UNIQUE INDEX "roster_once_per_year" ON "roster_entry" ("year_id", "id_number") '
                 'WHERE "active"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ('roster_entry', 'aid_batch', 'aid_item', 'aid_window_extension', 'aid_window', 'aid_year',
                  'code_file', 'code_change', 'code_handler', 'code_unit', 'insurance_code'):
        migrator.remove_model(table)
