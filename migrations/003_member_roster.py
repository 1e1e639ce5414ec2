"""Peewee migrations -- 003_member_roster.py.

Some examples (model - class or model name)::

    > Model = migrator.orm['table_name']            # Return model in current state by name
    > Model = migrator.ModelClass                   # Return model in current state by name

    > migrator.sql(sql)                             # Run custom SQL
    > migrator.run(func, *args, **kwargs)           # Run python function with the given args
    > migrator.create_model(Model)                  # Create a model (could be used as decorator)
    > migrator.remove_model(model, cascade=True)    # Remove a model
    > migrator.add_fields(model, **fields)          # Add fields (allow_not_null=True skips default)
    > migrator.change_fields(model, **fields)       # Change fields
    > migrator.remove_fields(model, *field_names, cascade=True)
    > migrator.rename_field(model, old_field_name, new_field_name)
    > migrator.rename_table(model, new_table_name)
    > migrator.add_index(model, *col_names, unique=False)
    > migrator.add_not_null(model, *field_names)
    > migrator.add_default(model, field_name, default)
    > migrator.add_constraint(model, name, sql)
    > migrator.drop_index(model, *col_names)
    > migrator.drop_not_null(model, *field_names)
    > migrator.drop_constraints(model, *constraints)

"""

import datetime
from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Issue 5: the member record, 会员审核 setting, transfers, identity changes, member numbers,
    import staging; one union per person, one pending transfer per person, unique mobiles."""
    migrator.add_fields('organization', member_review=pw.BooleanField(default=False))

    migrator.add_fields(
        'person',
        id_expiry=pw.DateField(null=True),
        population_removed=pw.BooleanField(default=False),
        has_card=pw.BooleanField(default=False))

    # (id_number, id_type): the number first serves 身份证号搜索 too; membership's own org and
    # status indexes duplicate (org, status).
    migrator.drop_index('person', 'id_type', 'id_number')
    migrator.add_index('person', 'id_number', 'id_type', unique=True)
    migrator.drop_index('membership', 'org')
    migrator.drop_index('membership', 'status')

    migrator.add_fields(
        'membership',
        mobile=pw.CharField(default='', max_length=11),
        address=pw.CharField(default='', max_length=200),
        education=pw.CharField(default='小学及以下', max_length=10),
        household=pw.CharField(default='非农业', max_length=10),
        skill_level=pw.CharField(default='无', max_length=10),
        union_post=pw.CharField(default='工会会员', max_length=20),
        work_unit=pw.CharField(default='', max_length=100),
        tags=pw.CharField(default='', max_length=100),
        category=pw.CharField(default='', max_length=10),
        category_detail=pw.CharField(default='', max_length=10),
        enterprise=pw.ForeignKeyField(column_name='enterprise_id', field='id', model=migrator.orm['enterprise'], null=True, on_delete='SET NULL'),
        synced=pw.BooleanField(null=True),
        edit_status=pw.CharField(default='', max_length=6),
        updated_at=pw.DateTimeField(default=datetime.datetime(2026, 1, 1)))
    # The mobile moves from the person to the union's member record (an existing database keeps
    # it); where one union holds a number twice, the later member's is cleared (to re-enter).
    migrator.sql('UPDATE "membership" SET "mobile" = COALESCE((SELECT p."mobile" FROM "person" p '
                 'WHERE p."id" = "membership"."person_id"), \'\')')
    migrator.sql(
        'UPDATE "membership" SET "mobile" = \'\' WHERE "id" IN (SELECT m."id" FROM "membership" m '
        'WHERE m."mobile" != \'\' AND EXISTS (SELECT 1 FROM "membership" o WHERE o."org_id" = m."org_id" '
        'AND o."mobile" = m."mobile" AND o."id" < m."id"))')
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): remove_fields would rebuild the table
    # on SQLite, which fails on a database with members (foreign keys are on).
    migrator.sql('ALTER TABLE "person" DROP COLUMN "mobile"')

    @migrator.create_model
    class Counter(pw.Model):
        name = pw.CharField(max_length=40, primary_key=True)
        value = pw.BigIntegerField(default=0)

        class Meta:
            table_name = "counter"

    @migrator.create_model
    class JobChunk(pw.Model):
        id = pw.AutoField()
        job = pw.ForeignKeyField(column_name='job_id', field='id', model=migrator.orm['job'], on_delete='CASCADE')
        seq = pw.IntegerField()
        data = pw.TextField()

        class Meta:
            table_name = "job_chunk"
            indexes = [(('job', 'seq'), True)]

    @migrator.create_model
    class MemberChange(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        membership = pw.ForeignKeyField(column_name='membership_id', field='id', model=migrator.orm['membership'], on_delete='CASCADE')
        payload = pw.TextField()
        before = pw.TextField()
        status = pw.CharField(default='待审核', index=True, max_length=6)
        reason = pw.TextField(default='')
        submitted_by = pw.ForeignKeyField(column_name='submitted_by_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "member_change"

    @migrator.create_model
    class TransferRequest(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=migrator.orm['person'], on_delete='CASCADE')
        source = pw.ForeignKeyField(column_name='source_id', field='id', model=migrator.orm['membership'], on_delete='CASCADE')
        target = pw.ForeignKeyField(column_name='target_id', field='id', model=migrator.orm['membership'], null=True, on_delete='SET NULL')
        from_org = pw.ForeignKeyField(column_name='from_org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        to_org = pw.ForeignKeyField(column_name='to_org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        filed_by_org = pw.ForeignKeyField(column_name='filed_by_org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        filed_by = pw.ForeignKeyField(column_name='filed_by_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        reason = pw.CharField(default='', max_length=200)
        status = pw.CharField(default='待审核', index=True, max_length=6)
        note = pw.TextField(default='')
        job = pw.IntegerField(index=True, null=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        created_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "transfer_request"

    migrator.sql('DROP INDEX "membership_one_active_per_person"')
    migrator.sql(
        'CREATE UNIQUE INDEX "membership_one_union_per_person" ON "membership" ("person_id") '
        "WHERE (\"status\" IN ('待审核', '正常'))")
    migrator.sql(
        'CREATE UNIQUE INDEX "membership_one_transfer_per_person" ON "membership" ("person_id") '
        "WHERE (\"status\" = '转入审核中')")
    migrator.sql(
        'CREATE UNIQUE INDEX "membership_mobile_per_union" ON "membership" ("org_id", "mobile") '
        "WHERE ((\"status\" IN ('待审核', '正常', '转入审核中')) AND (\"mobile\" != ''))")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX "membership_mobile_per_union"')
    migrator.sql('DROP INDEX "membership_one_transfer_per_person"')
    migrator.sql('DROP INDEX "membership_one_union_per_person"')
    migrator.sql(
        'CREATE UNIQUE INDEX "membership_one_active_per_person" ON "membership" ("person_id") '
        "WHERE (\"status\" IN ('待审核', '正常', '转入审核中'))")
    migrator.remove_model('transfer_request')
    migrator.remove_model('member_change')
    migrator.remove_model('job_chunk')
    migrator.remove_model('counter')
    migrator.remove_fields('membership', 'mobile', 'address', 'education', 'household', 'skill_level',
                           'union_post', 'work_unit', 'tags', 'category', 'category_detail',
                           'enterprise', 'synced', 'edit_status', 'updated_at')
    migrator.add_index('membership', 'status', unique=False)
    migrator.add_index('membership', 'org', unique=False)
    migrator.drop_index('person', 'id_number', 'id_type')
    migrator.add_index('person', 'id_type', 'id_number', unique=True)
    migrator.add_fields('person', mobile=pw.CharField(default='', max_length=11))
    migrator.remove_fields('person', 'id_expiry', 'population_removed', 'has_card')
    migrator.remove_fields('organization', 'member_review')
