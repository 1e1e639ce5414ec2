"""参保批次管理 (spec 70, seed 004 参保状态说明; issue 18 item 9): the batch and its roster.

- **AidBatch** (参保批次: one insurance code, one protection year, 集中参保 / 即时参保):
  清册待校验 → 清册校验不通过 | 附件审核中 → 附件审核不通过 → 附件审核中 …; a roster that passes (or
  whose attachments the centre passes) → 保障项目待选择 → 缴费凭证待上传 (提交确认保费) → 缴费凭证审核中
  → 参保成功 (核销; 驳回 back to 缴费凭证待上传). 批次撤回 (reason) from 缴费凭证待上传 → 清册待校验
  (重新整理清册) or → 保障项目待选择 (重新选择保障项目). 批次删除 (the batch and its people) only in
  清册待校验 / 清册校验不通过 — a delete, not a state. At most one centralized batch per code and
  year (the partial unique index aid_batch_one_central): while it runs the unit works in it, once
  it is 参保成功 a second centralized enrollment is refused (seed 004: forgotten people go through
  即时参保).
- **RosterEntry** (清册人员): one person of a batch's roster. One ID number is insured at most once
  per protection year across all units: the partial unique index roster_once_per_year (year,
  id_number) WHERE active, like enrollment_once_per_year of the other line.
"""

import peewee as pw

from models.base import BaseModel, now
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.years import CENTRAL, AidYear
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.workflow import Workflow

TO_CHECK, CHECK_FAILED, ATTACH_REVIEW, ATTACH_FAILED = "清册待校验", "清册校验不通过", "附件审核中", "附件审核不通过"
CHOOSE_ITEMS, AWAIT_VOUCHER, VOUCHER_REVIEW, INSURED = "保障项目待选择", "缴费凭证待上传", "缴费凭证审核中", "参保成功"
BATCH_STATES = [TO_CHECK, CHECK_FAILED, ATTACH_REVIEW, ATTACH_FAILED, CHOOSE_ITEMS, AWAIT_VOUCHER, VOUCHER_REVIEW,
                INSURED]
EDITABLE = (TO_CHECK, CHECK_FAILED)  # the roster can change, the batch can be deleted
WITHDRAW_CHOICES = {"withdraw_roster": "重新整理清册", "withdraw_items": "重新选择保障项目"}

# 清册人员
RESIDENT_ID = "居民身份证"
ID_TYPES = (RESIDENT_ID, "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "港澳台居民居住证",
            "外国人永久居留身份证")
IN_SERVICE, RETIRED, UNKNOWN = "在职", "退休", "-"  # 职退状态
EMPLOYMENT = (IN_SERVICE, RETIRED, UNKNOWN)
LAST_YEAR, MEMBER_DB, UPLOADED = "上年度参保名单", "会员库", "本地上传"  # how a person came in
SOURCES = (LAST_YEAR, MEMBER_DB, UPLOADED)


class AidBatch(BaseModel):
    WORKFLOW = Workflow("status", {
        (TO_CHECK, "fail_check"): CHECK_FAILED,
        (TO_CHECK, "submit"): CHOOSE_ITEMS,
        (CHECK_FAILED, "submit"): CHOOSE_ITEMS,
        (TO_CHECK, "submit_attachments"): ATTACH_REVIEW,
        (CHECK_FAILED, "submit_attachments"): ATTACH_REVIEW,
        (ATTACH_REVIEW, "pass_attachments"): CHOOSE_ITEMS,
        (ATTACH_REVIEW, "fail_attachments"): ATTACH_FAILED,
        (ATTACH_FAILED, "resubmit_attachments"): ATTACH_REVIEW,
        (CHOOSE_ITEMS, "confirm_premium"): AWAIT_VOUCHER,
        (AWAIT_VOUCHER, "upload_voucher"): VOUCHER_REVIEW,
        (VOUCHER_REVIEW, "write_off"): INSURED,
        (VOUCHER_REVIEW, "reject_voucher"): AWAIT_VOUCHER,
        (AWAIT_VOUCHER, "withdraw_roster"): TO_CHECK,
        (AWAIT_VOUCHER, "withdraw_items"): CHOOSE_ITEMS,
    }, actions={"fail_check": "清册校验不通过", "submit": "清册提交", "submit_attachments": "清册提交（附件待审核）",
                "pass_attachments": "附件审核通过", "fail_attachments": "附件审核不通过",
                "resubmit_attachments": "重新提交附件", "confirm_premium": "提交确认保费",
                "upload_voucher": "上传缴费凭证", "write_off": "缴费凭证核销", "reject_voucher": "缴费凭证驳回",
                "withdraw_roster": "批次撤回（重新整理清册）", "withdraw_items": "批次撤回（重新选择保障项目）"},
        needs_reason=frozenset({"fail_attachments", "reject_voucher", "withdraw_roster", "withdraw_items"}))
    TO_CHECK, CHECK_FAILED, AWAIT_VOUCHER, INSURED = TO_CHECK, CHECK_FAILED, AWAIT_VOUCHER, INSURED

    code = pw.ForeignKeyField(InsuranceCode, backref="batches", on_delete="RESTRICT")
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")  # the code's organisation (scope)
    year = pw.ForeignKeyField(AidYear, on_delete="RESTRICT")
    kind = pw.CharField(max_length=4)  # 集中参保 / 即时参保
    status = pw.CharField(max_length=8, default=TO_CHECK, index=True)
    reason = pw.TextField(default="")  # the last 撤回 / 不通过 / 驳回 reason
    submitted_at = pw.DateTimeField(null=True)  # 清册提交 (the payment timeline counts from it)
    premium_confirmed_at = pw.DateTimeField(null=True)  # 提交确认保费 (the payment page counts from it)
    premium_total = pw.BigIntegerField(default=0)  # 保费合计 (fen): the sum of the people's premiums (64-bit)
    # 清册提交 sent its attachments to the centre (→ 附件审核中); kept after the decision, so the
    # 附件审核 queue (附件审核中 / 附件审核不通过 / 附件审核通过) reads its own rows by index.
    attachments_sent = pw.BooleanField(default=False)
    created_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("year", "status"), False),)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    def __str__(self):
        return f"{self.year.year}年度{self.kind}"


# One centralized batch per code and year (deleting it in 清册待校验 / 清册校验不通过 frees the place).
AidBatch.add_index(AidBatch.index(AidBatch.code, AidBatch.year, unique=True, where=(AidBatch.kind == CENTRAL),
                                  name="aid_batch_one_central"))
# 参保批次查询 filtered by 区 (the organisations of a district) or 单位名称 (the matching codes): the
# counts per state and the page's ids read these indexes alone, not every batch of the year.
AidBatch.add_index(AidBatch.index(AidBatch.org, AidBatch.year, AidBatch.status, name="aid_batch_org_year"))
AidBatch.add_index(AidBatch.index(AidBatch.code, AidBatch.year, AidBatch.status, name="aid_batch_code_year"))
# 附件审核: the queue's page in its order (newest first) and its count, from the index.
AidBatch.add_index(AidBatch.index(AidBatch.attachments_sent, AidBatch.updated_at, AidBatch.id,
                                  name="aid_batch_attachment_queue"))


class RosterEntry(BaseModel):
    scope_field = None  # its batch's
    batch = pw.ForeignKeyField(AidBatch, backref="entries", on_delete="CASCADE", index=False)  # below
    year = pw.ForeignKeyField(AidYear, on_delete="RESTRICT")  # the batch's, for the once-per-year index
    id_type = pw.CharField(max_length=12, default=RESIDENT_ID)  # 证件类型 (不可变更)
    id_number = pw.CharField(max_length=32)  # 证件号码, normalised
    name = pw.CharField(max_length=50)  # 姓名 (the 建议清册's social-insurance name when it has the person)
    gender = pw.CharField(max_length=1)  # 男 / 女
    birth_date = pw.DateField()  # 出生日期
    has_social_insurance = pw.BooleanField(default=False)  # 是否有社保
    employment = pw.CharField(max_length=2, default=UNKNOWN)  # 职退状态 在职 / 退休 / -
    source = pw.CharField(max_length=8, default=UPLOADED)
    # Name check (姓名匹配异常，请人工确认): the names the 会员库 and the 建议清册 know, "" when none.
    imported_name = pw.CharField(max_length=50, default="")  # as the file / list gave it
    member_name = pw.CharField(max_length=50, default="")
    registry_name = pw.CharField(max_length=50, default="")
    registry_matched = pw.BooleanField(default=False)  # found in the 建议清册 (else 清册未能匹配人员)
    social_code = pw.CharField(max_length=20, default="")  # the 建议清册's 单位社保编码 (rule 3's codes)
    name_confirmed = pw.BooleanField(default=False)  # the operator picked the name
    # Rule 1 (在职超龄) ticks
    still_paying = pw.BooleanField(default=False)  # 社保尚在缴金
    medical_in_service = pw.BooleanField(default=False)  # 医保享受在职待遇
    premium = pw.IntegerField(default=0)  # 保费 (fen), written by 生成保费信息
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=now)

    @property
    def name_warning(self) -> bool:
        """警告: the 会员库 or the 建议清册 knows another name, and nobody has confirmed one."""
        names = {n for n in (self.member_name, self.registry_name) if n}
        return not self.name_confirmed and bool(names - {self.name})


# A batch's roster, and its 人数 (the active people) read from the index alone.
RosterEntry.add_index(RosterEntry.index(RosterEntry.batch, RosterEntry.active, name="roster_entry_batch_active"))
# One ID number insured at most once per protection year, across all units.
RosterEntry.add_index(RosterEntry.index(RosterEntry.year, RosterEntry.id_number, unique=True,
                                        where=RosterEntry.active, name="roster_once_per_year"))
