"""Peewee migrations -- 023_monitor_tally.py (issue 19 item 1): the 集中参保实时监控画面 reads counters.

union_tally (open grassroots unions), eligible_tally (可参保 memberships by the day they became
eligible) and year_tally (已提交 / 退回 unions, 集中参保人数 per protection year), one row per
organisation for its whole subtree (models/stats/tally.py), filled from the rows already there; and
(parent_id, level) on organization, so that the non-grassroots children of a district are found
without reading its grassroots unions.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    orm = migrator.orm

    @migrator.create_model
    class UnionTally(pw.Model):
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], primary_key=True,
                                 on_delete='CASCADE')
        unions = pw.IntegerField(default=0)

        class Meta:
            table_name = "union_tally"

    @migrator.create_model
    class EligibleTally(pw.Model):
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        day = pw.DateField()
        people = pw.IntegerField(default=0)

        class Meta:
            table_name = "eligible_tally"
            primary_key = pw.CompositeKey("org", "day")

    @migrator.create_model
    class YearTally(pw.Model):
        org = pw.ForeignKeyField(column_name='org_id', field='id', model=orm['organization'], on_delete='CASCADE')
        year = pw.ForeignKeyField(column_name='year_id', field='id', model=orm['protection_year'],
                                  on_delete='CASCADE')
        submitted = pw.IntegerField(default=0)
        returned = pw.IntegerField(default=0)
        enrolled = pw.IntegerField(default=0)

        class Meta:
            table_name = "year_tally"
            primary_key = pw.CompositeKey("org", "year")

    migrator.sql('CREATE INDEX IF NOT EXISTS "organization_parent_level" ON "organization" ("parent_id", "level")')
    migrator.run(_fill)


def _fill():
    """Count what is there already."""
    from models.stats import tally
    tally.rebuild()


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "organization_parent_level"')
    for name in ("year_tally", "eligible_tally", "union_tally"):
        migrator.remove_model(name)
