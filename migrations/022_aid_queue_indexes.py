"""Peewee migrations -- 022_aid_queue_indexes.py (issue 18 benchmark):

- 附件审核 read every batch of the city to find those "in a later state with an attachment":
  `aid_batch.attachments_sent` marks the batches 清册提交 sent to the centre (set by the workflow
  from now on; here from what the old query showed: 附件审核中 / 附件审核不通过, or a later state
  with an attachment), and (attachments_sent, updated_at, id) gives the queue's page in order.
- 人数 of a page of batches: (batch_id, active) answers the grouped count from the index alone; it
  replaces the index on batch_id alone.
"""

import peewee as pw
from peewee_migrate import Migrator

LATER = "('保障项目待选择', '缴费凭证待上传', '缴费凭证审核中', '参保成功')"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('ALTER TABLE "aid_batch" ADD COLUMN "attachments_sent" BOOLEAN NOT NULL DEFAULT FALSE')
    migrator.sql('UPDATE "aid_batch" SET "attachments_sent" = TRUE WHERE "status" IN (\'附件审核中\', \'附件审核不通过\') '
                 f'OR ("status" IN {LATER} AND "id" IN (SELECT "batch_id" FROM "batch_attachment"))')
    migrator.sql('CREATE INDEX IF NOT EXISTS "aid_batch_attachment_queue" ON "aid_batch" '
                 '("attachments_sent", "updated_at", "id")')
    migrator.sql('CREATE INDEX IF NOT EXISTS "roster_entry_batch_active" ON "roster_entry" ("batch_id", "active")')
    migrator.sql('DROP INDEX IF EXISTS "rosterentry_batch_id"')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('CREATE INDEX IF NOT EXISTS "rosterentry_batch_id" ON "roster_entry" ("batch_id")')
    migrator.sql('DROP INDEX IF EXISTS "roster_entry_batch_active"')
    migrator.sql('DROP INDEX IF EXISTS "aid_batch_attachment_queue"')
    migrator.sql('ALTER TABLE "aid_batch" DROP COLUMN "attachments_sent"')
