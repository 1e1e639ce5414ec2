"""Peewee migrations -- 014_sms_register.py: 短信验证码 (issue 18: 获取验证码 for 企业注册, 参保编码申请,
经办人填报).

SmsCode: one row per code sent (phone, purpose, the code's HMAC, the sender's IP, expiry, wrong
tries, when it was used). 企业注册 adds no table: an enterprise is an Organization of level
"enterprise" (no parent, no closure rows) with its Account; the unique name / uscc columns of
organization already hold the one-registration-per-unit rule.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class SmsCode(pw.Model):
        id = pw.AutoField()
        phone = pw.CharField(max_length=20)
        purpose = pw.CharField(max_length=20)
        code_hash = pw.CharField(max_length=64)
        ip = pw.CharField(index=True, max_length=45)
        sent_at = pw.DateTimeField(index=True)
        expires_at = pw.DateTimeField()
        tries = pw.IntegerField(default=0)
        used_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "sms_code"
            indexes = [(('phone', 'purpose', 'sent_at'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('sms_code')
