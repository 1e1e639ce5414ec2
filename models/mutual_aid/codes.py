"""参保编码申请, 经办人填报 and 信息变更 (spec 70, seed 004): the tables and their status words.

- **InsuranceCode** (参保编码申请 and, once approved, the code itself): one per platform account (a
  unique account column); 申请中 → 审核通过 (the centre gives the code, unique) / 审核不通过 (reason,
  shown under 编辑) → 申请中 (编辑 and resubmit).
- **CodeUnit**: the units a code covers — its applicant's unit when approved, and the other units of
  a group (集团) the centre adds. A unit name (and a 统一社会信用代码) belongs to at most one code: a
  unique column, so an application for a name that already has a code is refused ("提交失败", with
  that code's contact and phone) and two approvals of one name at once leave one code.
- **CodeHandler** (经办人: name, mobile, e-mail), one per code, required before any enrollment.
- **CodeChange** (信息变更申请): a 一般信息变更 (单位地址, 单位邮箱, 经办人姓名 / 手机 / 邮箱) takes
  effect at once — its row is written in 已生效 and audited with the old and new values; a
  单位名称变更 carries stamped proof and waits for the centre: 待审核 → 已通过 (applied) / 未通过
  (reason) / 已撤回; one waiting per code (the partial unique index code_change_one_waiting).
- **CodeFile**: an uploaded file (the application's materials, a name change's proof) kept in
  storage (models/storage.py, folder mutual-aid).
"""

import peewee as pw

from models.base import BaseModel, now
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from models.workflow import Workflow

APPLYING, APPROVED, REFUSED = "申请中", "审核通过", "审核不通过"
CODE_STATES = (APPLYING, APPROVED, REFUSED)
WAITING, ACCEPTED, DECLINED, WITHDRAWN = "待审核", "已通过", "未通过", "已撤回"
APPLIED = "已生效"  # a 一般信息变更: applied at once, nobody decides it
CHANGE_STATES = (WAITING, ACCEPTED, DECLINED, WITHDRAWN, APPLIED)
GENERAL_CHANGE, NAME_CHANGE = "一般信息变更", "单位名称变更"
APPLICATION_FILE, NAME_PROOF = "申请材料", "名称变更证明"
FILE_DIR = "mutual-aid"


class InsuranceCode(BaseModel):
    WORKFLOW = Workflow("status", {
        (APPLYING, "approve"): APPROVED,
        (APPLYING, "refuse"): REFUSED,
        (REFUSED, "resubmit"): APPLYING,
    }, actions={"approve": "参保编码审核通过", "refuse": "参保编码审核不通过", "resubmit": "重新提交参保编码申请"},
        needs_reason=frozenset({"refuse"}))
    APPLYING, APPROVED, REFUSED = APPLYING, APPROVED, REFUSED  # for templates: x.status == x.APPROVED

    account = pw.ForeignKeyField(Account, unique=True, on_delete="RESTRICT")  # one code per platform account
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")  # the account's organisation (scope)
    unit_name = pw.CharField(max_length=100)  # 单位名称 *
    uscc = pw.CharField(max_length=18)  # 统一社会信用代码 *
    address = pw.CharField(max_length=200)  # 单位地址 *
    contact = pw.CharField(max_length=50)  # 联系人 *
    phone = pw.CharField(max_length=20)  # 联系电话 (mobile, SMS-verified) *
    email = pw.CharField(max_length=100, default="")  # 单位邮箱
    code = pw.CharField(max_length=20, null=True, unique=True)  # 参保编码, given on approval
    status = pw.CharField(max_length=6, default=APPLYING, index=True)
    reason = pw.TextField(default="")  # 审核不通过 reason
    applied_at = pw.DateTimeField(default=now)
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL", backref="decided_codes")
    decided_at = pw.DateTimeField(null=True)
    updated_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f"{self.unit_name}（{self.code or self.status}）"


class CodeUnit(BaseModel):
    scope_field = None
    code = pw.ForeignKeyField(InsuranceCode, backref="units", on_delete="CASCADE")
    name = pw.CharField(max_length=100, unique=True)  # a unit name has at most one code
    uscc = pw.CharField(max_length=18, null=True, unique=True)
    is_main = pw.BooleanField(default=False)  # the applicant's own unit
    created_at = pw.DateTimeField(default=now)


class CodeHandler(BaseModel):
    scope_field = None
    code = pw.ForeignKeyField(InsuranceCode, unique=True, backref="handlers", on_delete="CASCADE")
    name = pw.CharField(max_length=50)  # 经办人姓名
    mobile = pw.CharField(max_length=20)  # 经办人手机
    email = pw.CharField(max_length=100)  # 经办人邮箱
    updated_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    updated_at = pw.DateTimeField(default=now)


class CodeChange(BaseModel):
    WORKFLOW = Workflow("status", {
        (WAITING, "accept"): ACCEPTED,
        (WAITING, "decline"): DECLINED,
        (WAITING, "withdraw"): WITHDRAWN,
    }, actions={"accept": "信息变更审核通过", "decline": "信息变更审核不通过", "withdraw": "撤回信息变更申请"},
        needs_reason=frozenset({"decline"}))
    WAITING, ACCEPTED, DECLINED, APPLIED = WAITING, ACCEPTED, DECLINED, APPLIED

    code = pw.ForeignKeyField(InsuranceCode, backref="changes", on_delete="CASCADE")
    org = pw.ForeignKeyField(Organization, null=True, on_delete="SET NULL")  # the code's organisation (scope)
    kind = pw.CharField(max_length=6)  # 一般信息变更 / 单位名称变更
    address = pw.CharField(max_length=200, default="")  # new values; "" = unchanged
    handler_name = pw.CharField(max_length=50, default="")
    handler_mobile = pw.CharField(max_length=20, default="")
    handler_email = pw.CharField(max_length=100, default="")
    email = pw.CharField(max_length=100, default="")  # 单位邮箱
    unit_name = pw.CharField(max_length=100, default="")  # 单位名称变更: the new name
    old_unit_name = pw.CharField(max_length=100, default="")  # and the name it replaces
    status = pw.CharField(max_length=4, default=WAITING, index=True)
    reason = pw.TextField(default="")
    requested_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    requested_at = pw.DateTimeField(default=now)
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL", backref="decided_changes")
    decided_at = pw.DateTimeField(null=True)


# One change request waiting per code (a second form is refused, two at once leave one).
CodeChange.add_index(CodeChange.index(CodeChange.code, unique=True, where=(CodeChange.status == WAITING),
                                      name="code_change_one_waiting"))


class CodeFile(BaseModel):
    scope_field = None
    code = pw.ForeignKeyField(InsuranceCode, backref="files", on_delete="CASCADE")
    change = pw.ForeignKeyField(CodeChange, null=True, backref="files", on_delete="CASCADE")
    kind = pw.CharField(max_length=10)  # 申请材料 / 名称变更证明
    file_name = pw.CharField(max_length=100)
    stored_name = pw.CharField(max_length=80)  # under storage FILE_DIR
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    uploaded_at = pw.DateTimeField(default=now)
