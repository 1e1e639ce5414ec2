"""Issue 4: organisation status, 组织审核, dashboard counters, messages, notices, downloads.

Peewee migrations -- 002_orgs_accounts_dashboard.py.

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
    
    migrator.add_fields(
        'organization',

        status=pw.CharField(default='正常', index=True, max_length=6),
        closed_at=pw.DateTimeField(null=True))

    @migrator.create_model
    class Download(pw.Model):
        id = pw.AutoField()
        title = pw.CharField(max_length=200)
        description = pw.CharField(default='', max_length=500)
        category = pw.CharField(default='操作说明', max_length=20)
        filename = pw.CharField(max_length=200)
        stored_name = pw.CharField(max_length=100, unique=True)
        content_type = pw.CharField(max_length=100)
        size = pw.IntegerField()
        published = pw.BooleanField(default=True, index=True)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], null=True, on_delete='SET NULL')
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        uploaded_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "download"

    @migrator.create_model
    class MemberDay(pw.Model):
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        day = pw.DateField()
        joined = pw.IntegerField(default=0)
        activated = pw.IntegerField(default=0)

        class Meta:
            table_name = "member_day"
            primary_key = pw.CompositeKey('org', 'day')
            indexes = [(('day', 'org'), False)]

    @migrator.create_model
    class Message(pw.Model):
        id = pw.AutoField()
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], null=True, on_delete='CASCADE')
        kind = pw.CharField(default='通知', max_length=20)
        title = pw.CharField(max_length=200)
        body = pw.TextField(default='')
        link = pw.CharField(default='', max_length=300)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "message"
            indexes = [(('org', 'created_at'), False), (('account', 'created_at'), False)]

    @migrator.create_model
    class MessageRead(pw.Model):
        message = pw.ForeignKeyField(column_name='message_id', field='id', model=migrator.orm['message'], on_delete='CASCADE')
        account = pw.ForeignKeyField(column_name='account_id', field='id', model=migrator.orm['account'], on_delete='CASCADE')
        read_at = pw.DateTimeField()

        class Meta:
            table_name = "message_read"
            primary_key = pw.CompositeKey('message', 'account')

    @migrator.create_model
    class Notice(pw.Model):
        id = pw.AutoField()
        title = pw.CharField(max_length=200)
        body = pw.TextField(default='')
        published = pw.BooleanField(default=True, index=True)
        pinned = pw.BooleanField(default=False)
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], null=True, on_delete='SET NULL')
        author = pw.ForeignKeyField(column_name='author_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        published_at = pw.DateTimeField(index=True)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "notice"

    @migrator.create_model
    class OrgMemberCount(pw.Model):
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE', primary_key=True)
        members = pw.IntegerField(default=0)

        class Meta:
            table_name = "org_member_count"

    @migrator.create_model
    class OrgRequest(pw.Model):
        id = pw.AutoField()
        kind = pw.CharField(max_length=10)
        status = pw.CharField(default='待审核', index=True, max_length=6)
        submitter_org = pw.ForeignKeyField(column_name='submitter_org_id', field='id', model=migrator.orm['organization'], on_delete='CASCADE')
        submitter = pw.ForeignKeyField(column_name='submitter_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')
        parent = pw.ForeignKeyField(column_name='parent_id', field='id', model=migrator.orm['organization'], null=True, on_delete='CASCADE')
        target = pw.ForeignKeyField(column_name='target_id', field='id', model=migrator.orm['organization'], null=True, on_delete='CASCADE')
        payload = pw.TextField(default='{}')
        before = pw.TextField(default='{}')
        reason = pw.TextField(default='')
        created_at = pw.DateTimeField()
        decided_at = pw.DateTimeField(null=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['account'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "org_request"

    migrator.run(_count_members)


def _count_members():
    """Fill the dashboard counters from the memberships already there."""
    from models.members import counts as stats
    stats.rebuild()


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in ("org_request", "download", "notice", "message_read", "message", "member_day",
                 "org_member_count"):
        migrator.remove_model(name)
    migrator.remove_fields("organization", "status", "closed_at")
