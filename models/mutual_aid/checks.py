"""清册校验's records (spec 70, seed 004; issue 18 items 6, 9, 10).

- **BatchAttachment** (上传附件): a file a unit uploads when rule 3 fails or the unit is new — its
  附件类型 (models/rules/mutual_roster.ATTACHMENT_KINDS, seed 004's five kinds plus the 申报表 and the
  情况说明), the file (checked by content like the vouchers, kept in storage folder FILE_DIR), who
  uploaded it and when. Removable while the unit may still change them (清册待校验, 清册校验不通过,
  附件审核不通过); the centre's 附件审核 opens them.
- **RosterConfirmation** (人员确认 of 清册未能匹配人员, "我已阅读并同意"): one per batch, holding a digest of
  the unmatched people confirmed. The confirmation counts only while the batch's unmatched people are
  still exactly those (any roster change — added, removed, re-matched — changes the digest, so no
  roster operation has to remember to reset it).
"""

import peewee as pw

from models.base import BaseModel, now
from models.mutual_aid.batches import AidBatch
from models.orgs.accounts import Account

FILE_DIR = "mutual-aid-attachments"


class BatchAttachment(BaseModel):
    scope_field = None  # its batch's
    batch = pw.ForeignKeyField(AidBatch, backref="attachments", on_delete="CASCADE")
    kind = pw.CharField(max_length=40)  # 附件类型
    file_name = pw.CharField(max_length=100)
    stored_name = pw.CharField(max_length=80)  # under storage FILE_DIR
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    uploaded_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now)


class RosterConfirmation(BaseModel):
    scope_field = None
    batch = pw.ForeignKeyField(AidBatch, unique=True, on_delete="CASCADE")
    digest = pw.CharField(max_length=64)  # sha256 of the unmatched people's ID numbers, sorted
    people = pw.IntegerField()  # how many were confirmed
    confirmed_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    confirmed_at = pw.DateTimeField(default=now)
