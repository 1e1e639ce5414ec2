"""People and memberships (spec 05, spec 20): the tables and their words.

A **person** is one ID type + number city-wide (name, gender, birth date, ID expiry). A
**membership** is a person in one union: member number (会员编号), 用户状态, join and leave dates, and
the member record the union keeps (mobile, address, work unit, tags …). A **member change**
(信息修改) waits for the superior; a **transfer request** (会员转移) for the source union.

Constraints the database enforces (both SQLite and PostgreSQL):
- Person (id_type, id_number) unique;
- at most one membership per person in 待审核 / 正常 (one union city-wide), and at most one
  转入审核中 (one pending transfer);
- a mobile number at most once among a union's current members;
- 会员编号 unique.

The operations that change them: models/members/members.py (新增 / 编辑 / 删除, join / change /
move, which keep the dashboard counters exact) and models/members/member_review.py (会员审核,
会员转移 and 会员转出审核).
"""

import json

import peewee as pw

from models import db
from models.base import BaseModel, now
from models.orgs.accounts import Account
from models.orgs.organizations import CLOSE_CHECKS, ENTERPRISE_CHECKS, Enterprise, Organization
from models.workflow import Workflow

ID_CARD = "身份证"
ID_TYPES = [ID_CARD, "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证", "其他"]
PENDING, NORMAL, TRANSFER_IN, TRANSFERRED, DELETED = "待审核", "正常", "转入审核中", "已转出", "已删除"
MEMBER_STATUSES = [PENDING, NORMAL, TRANSFER_IN, TRANSFERRED, DELETED]
HELD = (PENDING, NORMAL)  # the person belongs to this union
ACTIVE_STATUSES = (PENDING, NORMAL, TRANSFER_IN)  # shown in the union's roster
DELETE_REASONS = ("退休", "犯罪", "死亡")  # seed 000: 目前只有退休、犯罪、死亡可以删除会员
# seed 001: 已离职、退休、离休、死亡、开除会籍或其他原因
TRANSFER_REASONS = ("已离职", "退休", "离休", "死亡", "开除会籍", "其他原因")
# 审核状态 of a 信息修改 (MemberChange) and of a 会员转移 (TransferRequest)
WAITING, APPROVED, REJECTED, WITHDRAWN = "待审核", "已通过", "已驳回", "已撤回"
TRANSFER_STATUSES = (WAITING, APPROVED, REJECTED, WITHDRAWN)

# The add-member form's coded fields (seed 001) with their defaults first.
EDUCATION = ["小学及以下", "初中", "高中", "中专/技校", "大专", "本科", "硕士研究生", "博士研究生"]
HOUSEHOLD = ["非农业", "农业"]  # 户籍类型
SKILL_LEVELS = ["无", "初级工", "中级工", "高级工", "技师", "高级技师"]  # 技术等级
UNION_POSTS = ["工会会员", "工会主席", "工会副主席", "工会委员", "经费审查委员会委员", "女职工委员会委员",
               "工会小组长"]  # 工会职务
MEMBER_TAGS = ["农民工", "新就业形态劳动者", "劳动模范", "先进工作者", "困难职工", "退役军人", "高技能人才"]
# 上传会员数据类型 (seed 000)
FLEXIBLE, OUTSIDE, ENTERPRISE = "灵活就业", "企业外入会", "关联企业类"
CATEGORIES = [FLEXIBLE, OUTSIDE, ENTERPRISE]
FLEXIBLE_KINDS = ["快递物流", "网约送餐", "房屋中介", "护工护理", "货运驾驶", "物业保安", "商场信息", "家政服务",
                  "工地短工", "农业临工", "保洁环卫", "街面雇员"]
SYNC_LABELS = {None: "-", True: "是", False: "否"}  # 同步会员
# Identity fields: changed only through approval where the district reviews members.
IDENTITY = ("name", "id_type", "id_number", "gender", "birth_date")
# Non-identity fields of the member record (what an import may update), with their labels.
RECORD_FIELDS = {"mobile": "移动电话", "address": "联系地址", "education": "学历", "household": "户籍类型",
                 "skill_level": "技术等级", "union_post": "工会职务", "work_unit": "工作单位/服务平台",
                 "tags": "会员标签"}
LABELS = {"name": "姓名", "id_type": "有效证件类型", "id_number": "证件号码", "gender": "性别",
          "birth_date": "出生日期", "id_expiry": "证件到期日", **RECORD_FIELDS}


class Person(BaseModel):
    scope_field = None  # reached through memberships

    id_type = pw.CharField(max_length=20, default=ID_CARD)
    id_number = pw.CharField(max_length=32)
    name = pw.CharField(max_length=50)
    gender = pw.CharField(max_length=2)  # 男 / 女
    birth_date = pw.DateField(null=True)
    id_expiry = pw.DateField(null=True)  # 证件到期日
    population_removed = pw.BooleanField(default=False)  # 已被人口办剔除: never in enrollment lists
    created_at = pw.DateTimeField(default=now)

    class Meta:
        # Unique per (ID type, number); the number first so that 身份证号搜索 (the number alone,
        # whatever the type) uses the same index.
        indexes = ((("id_number", "id_type"), True),)


class Membership(BaseModel):
    WORKFLOW = Workflow("status", {
        (PENDING, "approve"): NORMAL,  # 会员审核 通过: 会员编号 issued
        (NORMAL, "delete"): DELETED,
        (PENDING, "delete"): DELETED,
        (NORMAL, "transfer_out"): TRANSFERRED,
        (PENDING, "transfer_out"): TRANSFERRED,
        (TRANSFER_IN, "accept"): NORMAL,  # the source approved the transfer
    }, actions={"approve": "会员审核通过", "delete": "删除会员", "transfer_out": "会员转出",
                "accept": "会员转入"}, needs_reason=frozenset({"delete"}))
    PENDING, NORMAL, HELD = PENDING, NORMAL, HELD  # for templates: x.status == x.DONE

    person = pw.ForeignKeyField(Person, backref="memberships", on_delete="RESTRICT")
    # No index of its own: (org, status) below serves every lookup by union (fewer indexes to
    # maintain on a 50,000-row import).
    org = pw.ForeignKeyField(Organization, backref="memberships", on_delete="RESTRICT", index=False)
    member_no = pw.CharField(max_length=32, null=True, unique=True)  # 会员编号
    status = pw.CharField(max_length=10, default=NORMAL)  # 用户状态 (indexed with org)
    join_date = pw.DateField(null=True)  # 入会日期
    approved_at = pw.DateTimeField(null=True)  # member number issued (新增激活电子会员证)
    leave_date = pw.DateField(null=True)
    leave_reason = pw.CharField(max_length=10, default="")  # 退休 / 犯罪 / 死亡 / 转出
    created_at = pw.DateTimeField(default=now)
    # The member record (seed 001 add form, seed 000 import template)
    mobile = pw.CharField(max_length=11, default="")  # 移动电话
    address = pw.CharField(max_length=200, default="")  # 联系地址
    education = pw.CharField(max_length=10, default=EDUCATION[0])  # 学历
    household = pw.CharField(max_length=10, default=HOUSEHOLD[0])  # 户籍类型
    skill_level = pw.CharField(max_length=10, default=SKILL_LEVELS[0])  # 技术等级
    union_post = pw.CharField(max_length=20, default=UNION_POSTS[0])  # 工会职务
    work_unit = pw.CharField(max_length=100, default="")  # 工作单位/服务平台
    tags = pw.CharField(max_length=100, default="")  # 会员标签, 、-separated
    category = pw.CharField(max_length=10, default="")  # 会员类别 (上传会员数据类型)
    category_detail = pw.CharField(max_length=10, default="")  # 灵活就业 sub-category
    enterprise = pw.ForeignKeyField(Enterprise, null=True, on_delete="SET NULL")  # 关联企业类
    synced = pw.BooleanField(null=True)  # 同步会员 是 / 否 (None: never compared)
    edit_status = pw.CharField(max_length=6, default="")  # 信息修改状态: 待审核 / 已通过 / 已驳回
    updated_at = pw.DateTimeField(default=now)
    # Copies of the person's 姓名 / 性别 / 出生日期, so that 姓名搜索 and 可能已达退休年龄 filter and count a
    # union's rows on this table. Written with the membership (`save` below, the bulk import: on
    # SQLite an insert trigger would make every insert 3 × dearer, migration 031); kept in step by the
    # database afterwards (triggers of migration 030: a membership moved to another person, a changed
    # person goes to all of its memberships; PostgreSQL also fills an insert that lacks them).
    person_name = pw.CharField(max_length=50, null=True)
    person_gender = pw.CharField(max_length=2, null=True)
    person_birth_date = pw.DateField(null=True)

    class Meta:
        indexes = ((("org", "status"), False),)

    COPIES = ("person_name", "person_gender", "person_birth_date")

    def save(self, *args, **kwargs):
        if self.person_name is None and self.person_id is not None and self._pk is None:
            person = self.person
            self.person_name, self.person_gender = person.name, person.gender
            self.person_birth_date = person.birth_date
        return super().save(*args, **kwargs)

    @classmethod
    def insert(cls, __data=None, **insert):
        return super().insert(cls._with_copies([{**(__data or {}), **insert}])[0])

    @classmethod
    def insert_many(cls, rows, fields=None):
        if fields is not None or isinstance(rows, pw.BaseQuery):  # tuples or INSERT … SELECT: as given
            return super().insert_many(rows, fields)
        return super().insert_many(cls._with_copies(list(rows)))

    @classmethod
    def _with_copies(cls, rows: list) -> list:
        """Rows (dicts) with their person's copies where they lack them (one query for all)."""
        def key(row, name):
            return row.get(name, row.get(getattr(cls, name)))
        lacking = {getattr(p, "id", p) for r in rows if key(r, "person_name") is None
                   for p in [key(r, "person")] if p is not None}
        if not lacking:
            return rows
        found = {pid: (name, gender, birth) for pid, name, gender, birth in Person.select(
            Person.id, Person.name, Person.gender, Person.birth_date).where(Person.id.in_(lacking)).tuples()}
        out = []
        for r in rows:
            person = key(r, "person")
            pid = getattr(person, "id", person)
            if key(r, "person_name") is None and pid in found:
                r = {**r, **dict(zip(cls.COPIES, found[pid], strict=True))}
            out.append(r)
        return out

    @property
    def sync_label(self) -> str:
        return SYNC_LABELS[self.synced]

    @property
    def edit_label(self) -> str:
        return self.edit_status or "-"


# One person in at most one union city-wide, and in at most one pending transfer.
Membership.add_index(Membership.index(Membership.person, unique=True,
                                      where=Membership.status.in_(HELD),
                                      name="membership_one_union_per_person"))
Membership.add_index(Membership.index(Membership.person, unique=True,
                                      where=Membership.status == TRANSFER_IN,
                                      name="membership_one_transfer_per_person"))
# 手机号码不要重复 (seed 003): a mobile at most once among a union's current members.
Membership.add_index(Membership.index(Membership.org, Membership.mobile, unique=True,
                                      where=(Membership.status.in_(ACTIVE_STATUSES))
                                      & (Membership.mobile != ""),
                                      name="membership_mobile_per_union"))


class Counter(BaseModel):
    """Named counters (会员编号). Incremented with UPDATE … SET value = value + n inside the
    caller's transaction: the row lock serialises concurrent approvals on both databases."""
    scope_field = None
    name = pw.CharField(max_length=40, primary_key=True)
    value = pw.BigIntegerField(default=0)

    class Meta:
        # Not "counter": huey's SQL storage, in the same database, has a table of that name.
        table_name = "number_counter"


MEMBER_NO_START = 3_100_000_000  # 10-digit numbers like the manual's 3930143359


def next_member_numbers(n: int = 1) -> list[str]:
    """Reserve n consecutive member numbers (call inside the transaction that uses them)."""
    with db.atomic():
        changed = Counter.update(value=Counter.value + n).where(Counter.name == "member_no").execute()
        if not changed:
            Counter.insert(name="member_no", value=MEMBER_NO_START).on_conflict_ignore().execute()
            Counter.update(value=Counter.value + n).where(Counter.name == "member_no").execute()
        last = Counter.get_by_id("member_no").value
    return [str(v) for v in range(last - n + 1, last + 1)]


class MemberChange(BaseModel):
    """信息修改: a change of an approved member's identity fields waiting for the superior."""
    WORKFLOW = Workflow("status", {
        (WAITING, "approve"): APPROVED,
        (WAITING, "reject"): REJECTED,
    }, actions={"approve": "信息修改审核通过", "reject": "信息修改驳回"}, needs_reason=frozenset({"reject"}))

    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    membership = pw.ForeignKeyField(Membership, backref="changes", on_delete="CASCADE")
    payload = pw.TextField()  # {field: new value}
    before = pw.TextField()  # {field: old value}
    status = pw.CharField(max_length=6, default=WAITING, index=True)
    reason = pw.TextField(default="")
    submitted_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    decided_at = pw.DateTimeField(null=True)

    @property
    def data(self) -> dict:
        return json.loads(self.payload)

    @property
    def old(self) -> dict:
        return json.loads(self.before)


class TransferRequest(BaseModel):
    """会员转移: from the member's union to another. Filed by the source (转出 / 批量转出) or by the
    destination (从其他工会转入, 同步会员 class C); decided (会员转出审核) by the source union or
    its superiors — never by the organisation that filed it. While it waits, the destination
    holds a 转入审核中 membership."""
    WORKFLOW = Workflow("status", {
        (WAITING, "approve"): APPROVED,
        (WAITING, "reject"): REJECTED,
        (WAITING, "withdraw"): WITHDRAWN,
    }, actions={"approve": "转出审核通过", "reject": "转出审核驳回", "withdraw": "撤回转移申请"},
        needs_reason=frozenset({"reject"}))
    # The source side (deciders) and the destination (filed or receiving) both see it.
    scope_field = ("from_org", "to_org")

    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    source = pw.ForeignKeyField(Membership, on_delete="CASCADE", backref="transfers_out")
    target = pw.ForeignKeyField(Membership, null=True, on_delete="SET NULL", backref="transfers_in")
    from_org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    to_org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    filed_by_org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    filed_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    reason = pw.CharField(max_length=200, default="")  # 转移原因
    status = pw.CharField(max_length=6, default=WAITING, index=True)  # 审核状态
    note = pw.TextField(default="")  # 审核说明
    job = pw.IntegerField(null=True, index=True)  # the 同步会员 run that filed it
    decided_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)
    decided_at = pw.DateTimeField(null=True)

    def can_decide(self, account) -> bool:
        """会员转出审核: the source union or any organisation above it, not the filer."""
        if account.is_admin:
            return True
        if account.org_id == self.filed_by_org_id:
            return False
        return account.org_id == self.from_org_id or account.org.is_above(self.from_org_id)


# --- reading ----------------------------------------------------------------------------------
def find_person(id_type: str, id_number: str) -> Person | None:
    return Person.get_or_none((Person.id_type == id_type) & (Person.id_number == id_number))


def holding(person_id: int) -> Membership | None:
    """The membership that holds the person (待审核 / 正常), if any."""
    return (Membership.select(Membership, Organization).join(Organization)
            .where((Membership.person == person_id) & Membership.status.in_(HELD)).first())


def held_elsewhere_message(m: Membership) -> str:
    """The refusal naming the union that holds a person and its contact (spec 20)."""
    org = m.org
    contact = "，".join(x for x in (f"联系人：{org.contact}" if org.contact else "",
                                    f"联系电话：{org.phone}" if org.phone else "") if x)
    return (f"该会员已是「{org.name}」的会员{f'（{contact}）' if contact else ''}，"
            "请使用“从其他工会转入会员到本工会”办理转入")


def review_required(org: Organization) -> bool:
    """会员审核: the district above `org` has switched on approval of new members."""
    if org.district_id is None:
        return False
    return bool(Organization.select(Organization.member_review)
                .where(Organization.id == org.district_id).scalar())


# --- what the roster tells other areas, and what it checks for them -------------------------------
# Other areas register what they do when a member leaves (删除 / 转出) or a record changes (the cards
# area: the 待办会员 row goes or is checked again), so the roster never imports them.
LEFT: list = []  # fn(membership_id)
CHANGED: list = []  # fn(membership_id=None, person_id=None)


def member_left(membership_id: int) -> None:
    for hook in LEFT:
        hook(membership_id)


def member_changed(membership_id: int | None = None, person_id: int | None = None) -> None:
    for hook in CHANGED:
        hook(membership_id=membership_id, person_id=person_id)


def enterprise_members(enterprise):
    """The current member records (关联企业类) tied to an enterprise (a sub-query of their ids)."""
    return Membership.select(Membership.id).where((Membership.enterprise == enterprise.id)
                                                  & Membership.status.in_(ACTIVE_STATUSES))


def _enterprise_members(enterprise) -> list[str]:
    n = enterprise_members(enterprise).count()
    return [f"有{n}条会员记录（关联企业类）关联该企业，请先修改这些会员的关联企业或会员类别"] if n else []


def _members_close_check(org: Organization):
    n = Membership.select().where((Membership.org == org.id) & Membership.status.in_(ACTIVE_STATUSES)).count()
    return f"该组织还有{n}名会员，请先转出或删除会员" if n else None


# Third, after organizations.py's own two (the root, the open children), where the 撤销 page has
# always listed it; the later areas' checks follow.
if _members_close_check not in CLOSE_CHECKS:
    CLOSE_CHECKS.insert(2, _members_close_check)
if _enterprise_members not in ENTERPRISE_CHECKS:
    ENTERPRISE_CHECKS.insert(0, _enterprise_members)
