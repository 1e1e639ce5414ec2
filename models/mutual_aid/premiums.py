"""保障项目选择 and 保费 (spec 70 "Plan items and fees", seed 004; issue 18 item 7): what a batch chose
and the coverage it gives.

- **BatchItem**: one ticked item of a batch (A0 … C3), unique (batch, code) — a database constraint.
  The unit ticks one set for its whole roster (`mutual_fees.check_items`); each person pays for the
  ticked items they may take (`mutual_fees.person_items`: A0 only for 职保 people). It also keeps
  what 生成保费信息 worked out for the item: the fee charged per person (fen: the year's full or half
  price) and its 免责期 — `waiting_days` and `covered_from`, the first day the item covers
  (`mutual_year.waiting_period`).
- **BatchCoverage**: one row per batch, written by 生成保费信息: the coverage period (起保日期 /
  终保日期, `mutual_year.coverage`: centralized the whole year, instant from the day after 清册提交),
  半年 / 全年 (`mutual_year.is_half_year`), the count of people and when / by whom it was generated.

Where a person's coverage is: every active person of a batch shares the batch's start date, so a
person's coverage is their active RosterEntry (its premium, RosterEntry.premium) + the batch's
BatchCoverage (period) + the BatchItem rows of the items they pay for (免责期 per item). Writing the
same dates on each of 50,000 people would store one fact 50,000 times; the 保障信息查询 screen joins
them instead (`premium_ops.aid_coverage_of`).
"""

import peewee as pw

from models.base import BaseModel, now
from models.mutual_aid.batches import AidBatch
from models.orgs.accounts import Account


class BatchItem(BaseModel):
    scope_field = None  # its batch's
    batch = pw.ForeignKeyField(AidBatch, backref="items", on_delete="CASCADE")
    code = pw.CharField(max_length=2)  # A0 … C3
    fee = pw.IntegerField(default=0)  # per person, fen: the price charged (full or half year)
    waiting_days = pw.IntegerField(default=0)  # 免责期 (days; 0: none)
    covered_from = pw.DateField(null=True)  # the first covered day after the 免责期

    class Meta:
        indexes = ((("batch", "code"), True),)


class BatchCoverage(BaseModel):
    scope_field = None  # its batch's
    batch = pw.ForeignKeyField(AidBatch, unique=True, backref="coverages", on_delete="CASCADE")
    starts = pw.DateField()  # 起保日期
    ends = pw.DateField()  # 终保日期
    half = pw.BooleanField(default=False)  # 半年缴费标准
    people = pw.IntegerField(default=0)  # active people when generated
    generated_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    generated_at = pw.DateTimeField(default=now)

    @property
    def period(self) -> str:
        return "半年" if self.half else "全年"
