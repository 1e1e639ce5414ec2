"""Peewee migrations -- 001_initial.py.

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

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class Organization(pw.Model):
        id = pw.AutoField()
        name = pw.CharField(max_length=100, unique=True)
        type = pw.CharField(max_length=20)
        level = pw.CharField(index=True, max_length=12)
        parent = pw.ForeignKeyField(column_name='parent_id', field='id', model='self', null=True, on_delete='RESTRICT')
        district = pw.ForeignKeyField(column_name='district_id', field='id', model='self', null=True, on_delete='RESTRICT')
        uscc = pw.CharField(max_length=18, null=True, unique=True)
        union_no = pw.CharField(max_length=32, null=True, unique=True)
        address = pw.CharField(default='', max_length=200)
        contact = pw.CharField(default='', max_length=50)
        phone = pw.CharField(default='', max_length=30)
        is_temporary = pw.BooleanField(default=False)
        depth = pw.SmallIntegerField(default=0)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "organization"

    @migrator.create_model
    class Account(pw.Model):
        id = pw.AutoField()
        username = pw.CharField(max_length=50, unique=True)
        display_name = pw.CharField(default='', max_length=50)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='RESTRICT')
        password_hash = pw.CharField(max_length=255)
        is_admin = pw.BooleanField(default=False)
        is_active_flag = pw.BooleanField(column_name='is_active', default=True)
        must_change_password = pw.BooleanField(default=False)
        session_version = pw.IntegerField(default=1)
        last_login_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "account"

    @migrator.create_model
    class AuditLog(pw.Model):
        id = pw.AutoField()
        at = pw.DateTimeField(index=True)
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        account_name = pw.CharField(default='', max_length=50)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], null=True, on_delete='SET NULL')
        org_name = pw.CharField(default='', max_length=100)
        object_type = pw.CharField(max_length=40)
        object_id = pw.IntegerField(null=True)
        action = pw.CharField(max_length=40)
        from_state = pw.CharField(default='', max_length=30)
        to_state = pw.CharField(default='', max_length=30)
        reason = pw.TextField(default='')
        ip = pw.CharField(default='', max_length=45)
        detail = pw.TextField(default='')

        class Meta:
            table_name = "audit_log"
            indexes = [(('object_type', 'object_id', 'at'), False)]

    @migrator.create_model
    class BaseModel(pw.Model):
        id = pw.AutoField()

        class Meta:
            table_name = "base_model"

    @migrator.create_model
    class Enterprise(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        name = pw.CharField(max_length=100)
        uscc = pw.CharField(max_length=18, unique=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "enterprise"

    @migrator.create_model
    class Job(pw.Model):
        id = pw.AutoField()
        owner = pw.ForeignKeyField(column_name='owner_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], null=True, on_delete='CASCADE')
        kind = pw.CharField(max_length=40)
        title = pw.CharField(max_length=100)
        status = pw.CharField(default='排队中', index=True, max_length=10)
        params = pw.TextField(default='{}')
        progress_done = pw.IntegerField(default=0)
        progress_total = pw.IntegerField(default=0)
        checkpoint = pw.TextField(default='{}')
        result = pw.TextField(default='{}')
        errors = pw.TextField(default='[]')
        attempts = pw.IntegerField(default=0)
        created_at = pw.DateTimeField()
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "job"

    @migrator.create_model
    class LoginAttempt(pw.Model):
        id = pw.AutoField()
        username = pw.CharField(index=True, max_length=50)
        ip = pw.CharField(index=True, max_length=45)
        at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "login_attempt"

    @migrator.create_model
    class Person(pw.Model):
        id = pw.AutoField()
        id_type = pw.CharField(default='身份证', max_length=20)
        id_number = pw.CharField(max_length=32)
        name = pw.CharField(max_length=50)
        gender = pw.CharField(max_length=2)
        birth_date = pw.DateField(null=True)
        mobile = pw.CharField(default='', max_length=11)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "person"
            indexes = [(('id_type', 'id_number'), True)]

    @migrator.create_model
    class Membership(pw.Model):
        id = pw.AutoField()
        person = pw.ForeignKeyField(column_name='person_id', field='id', model=migrator.orm['person'], on_delete='RESTRICT')
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='RESTRICT')
        member_no = pw.CharField(max_length=32, null=True, unique=True)
        status = pw.CharField(default='正常', index=True, max_length=10)
        join_date = pw.DateField(null=True)
        approved_at = pw.DateTimeField(null=True)
        leave_date = pw.DateField(null=True)
        leave_reason = pw.CharField(default='', max_length=10)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "membership"
            indexes = [(('org', 'status'), False)]

    # One active membership per person city-wide (partial unique index; same SQL on both databases).
    migrator.sql(
        'CREATE UNIQUE INDEX "membership_one_active_per_person" ON "membership" ("person_id") '
        "WHERE (\"status\" IN ('待审核', '正常', '转入审核中'))"
    )

    @migrator.create_model
    class OrgTree(pw.Model):
        ancestor = pw.ForeignKeyField(column_name='ancestor_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        descendant = pw.ForeignKeyField(column_name='descendant_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        depth = pw.SmallIntegerField()

        class Meta:
            table_name = "org_tree"
            primary_key = pw.CompositeKey('ancestor', 'descendant')
            indexes = [(('descendant', 'depth'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('org_tree')

    migrator.sql('DROP INDEX "membership_one_active_per_person"')

    migrator.remove_model('membership')

    migrator.remove_model('person')

    migrator.remove_model('login_attempt')

    migrator.remove_model('job')

    migrator.remove_model('enterprise')

    migrator.remove_model('base_model')

    migrator.remove_model('audit_log')

    migrator.remove_model('account')

    migrator.remove_model('organization')
