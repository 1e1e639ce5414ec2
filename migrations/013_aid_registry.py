"""Peewee migrations -- 013_aid_registry.py: the 建议清册 registry and the batch's money fields
(issue 18 items 5–8).

RegistryPayer (one row per ID number: 社保编码, 社保姓名, 职退状态) and RegistryUnit (社保编码 → 缴费人数);
a roster person's 社保编码 and premium; a batch's 清册提交 / 提交确认保费 moments and premium total.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class RegistryPayer(pw.Model):
        id = pw.AutoField()
        social_code = pw.CharField(index=True, max_length=20)
        id_number = pw.CharField(max_length=32, unique=True)
        name = pw.CharField(max_length=50)
        employment = pw.CharField(default='在职', max_length=2)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "registry_payer"

    @migrator.create_model
    class RegistryUnit(pw.Model):
        id = pw.AutoField()
        social_code = pw.CharField(max_length=20, unique=True)
        unit_name = pw.CharField(default='', max_length=100)
        payers = pw.IntegerField(default=0)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "registry_unit"

    migrator.add_fields('aid_batch',
                        submitted_at=pw.DateTimeField(null=True),
                        premium_confirmed_at=pw.DateTimeField(null=True),
                        premium_total=pw.IntegerField(default=0))
    migrator.add_fields('roster_entry',
                        social_code=pw.CharField(default='', max_length=20),
                        premium=pw.IntegerField(default=0))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('roster_entry', 'social_code', 'premium')
    migrator.remove_fields('aid_batch', 'submitted_at', 'premium_confirmed_at', 'premium_total')
    migrator.remove_model('registry_unit')
    migrator.remove_model('registry_payer')
