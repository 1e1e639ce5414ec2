"""Peewee migrations -- 026_job_lease.py (issue 19, scale-out): a running job is claimed by one
worker for a while. `claimed_by` names the worker's claim (host:pid:random), `lease_until` when
the claim lapses unless the worker renews it; a second worker re-queues a job only once its lease
has lapsed (or its worker process on the same host is gone), and every chunk's transaction checks
the claim, so two workers never both run a job (models/jobs.py)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('ALTER TABLE "job" ADD COLUMN "claimed_by" VARCHAR(80)')
    migrator.sql('ALTER TABLE "job" ADD COLUMN "lease_until" TIMESTAMP')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('ALTER TABLE "job" DROP COLUMN "lease_until"')
    migrator.sql('ALTER TABLE "job" DROP COLUMN "claimed_by"')
