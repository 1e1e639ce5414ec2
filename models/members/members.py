"""People and memberships (spec 05, spec 20) and every operation that changes them.

A **person** is one ID type + number city-wide (name, gender, birth date, ID expiry). A
**membership** is a person in one union: member number (会员编号), 用户状态, join and leave dates, and
the member record the union keeps (mobile, address, work unit, tags …).

Constraints the database enforces (both SQLite and PostgreSQL):
- Person (id_type, id_number) unique;
- at most one membership per person in 待审核 / 正常 (one union city-wide), and at most one
  转入审核中 (one pending transfer);
- a mobile number at most once among a union's current members;
- 会员编号 unique.

Every membership change goes through `join()` / `change()` (or `stats.rebuild()` after bulk
work), which keep the dashboard counters exact.
"""

import json
from datetime import date

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import BaseModel, DomainError, now, today
from models.orgs.accounts import Account
from models.orgs.organizations import Enterprise, Organization
from models.rules.text import mask
from models.workflow import Workflow, transition

ID_CARD = "身份证"
ID_TYPES = [ID_CARD, "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证", "其他"]
PENDING, NORMAL, TRANSFER_IN, TRANSFERRED, DELETED = "待审核", "正常", "转入审核中", "已转出", "已删除"
MEMBER_STATUSES = [PENDING, NORMAL, TRANSFER_IN, TRANSFERRED, DELETED]
HELD = (PENDING, NORMAL)  # the person belongs to this union
ACTIVE_STATUSES = (PENDING, NORMAL, TRANSFER_IN)  # shown in the union's roster
DELETE_REASONS = ("退休", "犯罪", "死亡")  # seed 000: 目前只有退休、犯罪、死亡可以删除会员
# seed 001: 已离职、退休、离休、死亡、开除会籍或其他原因
TRANSFER_REASONS = ("已离职", "退休", "离休", "死亡", "开除会籍", "其他原因")

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
    has_card = pw.BooleanField(default=False)  # 已办会员卡 (maintained by the card area)
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

    class Meta:
        indexes = ((("org", "status"), False),)

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
        ("待审核", "approve"): "已通过",
        ("待审核", "reject"): "已驳回",
    }, actions={"approve": "信息修改审核通过", "reject": "信息修改驳回"}, needs_reason=frozenset({"reject"}))

    org = pw.ForeignKeyField(Organization, on_delete="CASCADE")
    membership = pw.ForeignKeyField(Membership, backref="changes", on_delete="CASCADE")
    payload = pw.TextField()  # {field: new value}
    before = pw.TextField()  # {field: old value}
    status = pw.CharField(max_length=6, default="待审核", index=True)
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
        ("待审核", "approve"): "已通过",
        ("待审核", "reject"): "已驳回",
        ("待审核", "withdraw"): "已撤回",
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
    status = pw.CharField(max_length=6, default="待审核", index=True)  # 审核状态
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


# --- the one way memberships change (keeps the dashboard counters exact) -----------------------
def join(person: Person, org: Organization, **fields) -> Membership:
    """Create a membership and count it."""
    from models.members import counts as stats
    with db.atomic():
        m = Membership.create(person=person, org=org, **fields)
        stats.apply_change(None, m)
    return m


def change(m: Membership, **fields) -> Membership:
    """Update a membership (status, org, dates …) and adjust the counters in one transaction."""
    from models.members import counts as stats
    with db.atomic():
        before = stats.snapshot(Membership.get_by_id(m.id))
        Membership.update(**fields).where(Membership.id == m.id).execute()
        m = Membership.get_by_id(m.id)
        stats.apply_change(before, m)
    return m


def move(m: Membership, action: str, account=None, reason: str = "", updates: dict | None = None,
         detail=None) -> Membership:
    """A workflow step of a membership (compare-and-set, audited) with its counter change."""
    from models.members import counts as stats
    with db.atomic():
        before = stats.snapshot(m)
        m = transition(m, action, account=account, reason=reason,
                       updates={"updated_at": now(), **(updates or {})}, detail=detail)
        stats.apply_change(before, m)
        if m.status in (TRANSFERRED, DELETED):
            from models.cards import cards  # a member who left is no longer queued for a card here
            cards.CardPending.delete().where(cards.CardPending.membership == m.id).execute()
    return m


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


# --- adding, editing --------------------------------------------------------------------------
def add(org: Organization, account, person_fields: dict, record: dict, join_date: date | None = None,
        action: str = "新增会员") -> Membership:
    """新增会员: one member into `org`. `person_fields` are checked identity fields (IDENTITY +
    id_expiry), `record` the member-record fields. Refused with a Chinese DomainError when the
    person is a member elsewhere, already here, or the mobile is taken in this union."""
    if org.level not in ("grassroots",) and not org.is_temporary:
        raise DomainError("只有基层工会（或临时工会）可以新增会员", 403)
    with db.atomic():
        person = find_person(person_fields["id_type"], person_fields["id_number"])
        if person is not None:
            _check_same_person(person, person_fields)
            _check_not_held(person, org)
        _check_mobile_free(org, record.get("mobile", ""))
        try:
            with db.atomic():
                if person is None:
                    person = Person.create(**person_fields)
                elif person_fields.get("id_expiry") and person.id_expiry != person_fields["id_expiry"]:
                    Person.update(id_expiry=person_fields["id_expiry"]).where(Person.id == person.id).execute()
                m = join(person, org, status=PENDING, join_date=join_date or today(), **record)
        except pw.IntegrityError:
            raise _integrity_refusal(person_fields, org, record.get("mobile", "")) from None
        AuditLog.record(action, m, to_state=PENDING, account=account,
                        detail={"姓名": person.name, "证件号码": mask(person.id_number)})
        if not review_required(org):
            m = approve(m, account, auto=True)
    return m


def _check_same_person(person: Person, fields: dict) -> None:
    if person.name != fields["name"]:
        raise DomainError(f"该证件号码在系统中登记的姓名为「{person.name}」，与填写的姓名不一致"
                          "（会员姓名和证件号码必须一致）", 422)


def _check_not_held(person: Person, org: Organization) -> None:
    held = holding(person.id)
    if held is None:
        pending = Membership.get_or_none((Membership.person == person.id) & (Membership.status == TRANSFER_IN))
        if pending is not None:
            raise DomainError(f"该会员正在转入「{pending.org.name}」（转入审核中），请等待审核结果", 409)
        return
    if held.org_id == org.id:
        raise DomainError("该会员已在本工会，无需重复新增", 409)
    raise DomainError(held_elsewhere_message(held), 409)


def _check_mobile_free(org: Organization, mobile: str, exclude: int | None = None) -> None:
    if not mobile:
        return
    query = (Membership.select(Membership, Person).join(Person)
             .where((Membership.org == org.id) & (Membership.mobile == mobile)
                    & Membership.status.in_(ACTIVE_STATUSES)))
    if exclude:
        query = query.where(Membership.id != exclude)
    other = query.first()
    if other is not None:
        raise DomainError(f"移动电话已被本工会会员「{other.person.name}」使用（手机号码不要重复）", 409)


def _integrity_refusal(person_fields: dict, org: Organization, mobile: str) -> DomainError:
    """A constraint fired because another operator got there first: say who holds what."""
    person = find_person(person_fields["id_type"], person_fields["id_number"])
    if person is not None:
        try:
            _check_not_held(person, org)
        except DomainError as exc:
            return exc
    try:
        _check_mobile_free(org, mobile)
    except DomainError as exc:
        return exc
    return DomainError("该会员刚被其他操作员办理，请刷新页面后重试", 409)


def update(m: Membership, account, person_fields: dict, record: dict) -> tuple[Membership, str]:
    """编辑: record fields change at once; identity fields change at once for a member still
    待审核 or where the district does not review members, otherwise they wait for approval
    (信息修改状态 待审核). Returns (membership, message)."""
    if m.status not in (PENDING, NORMAL):
        raise DomainError(f"用户状态为「{m.status}」的会员不能编辑", 409)
    person = m.person
    changed_identity = {k: v for k, v in person_fields.items()
                        if k in IDENTITY and getattr(person, k) != v}
    changed_record = {k: v for k, v in record.items() if getattr(m, k) != v}
    message = "保存成功"
    with db.atomic():
        if "mobile" in changed_record:
            _check_mobile_free(m.org, changed_record["mobile"], exclude=m.id)
        if changed_identity and m.status == NORMAL and review_required(m.org):
            if MemberChange.select().where((MemberChange.membership == m.id)
                                           & (MemberChange.status == "待审核")).exists():
                raise DomainError("该会员已有待审核的信息修改，请等待审核后再修改证件信息", 409)
            MemberChange.create(org=m.org_id, membership=m.id, submitted_by=account.id,
                                payload=_dump(changed_identity),
                                before=_dump({k: getattr(person, k) for k in changed_identity}))
            changed_record["edit_status"] = "待审核"
            message = "证件信息的修改已提交上级审核，审核通过后生效；其他信息已保存"
        elif changed_identity:
            _apply_identity(person, changed_identity)
        if "id_expiry" in person_fields and person.id_expiry != person_fields["id_expiry"]:
            Person.update(id_expiry=person_fields["id_expiry"]).where(Person.id == person.id).execute()
        if changed_record:
            try:
                with db.atomic():
                    Membership.update(updated_at=now(), **changed_record).where(Membership.id == m.id).execute()
            except pw.IntegrityError:
                raise _integrity_refusal({"id_type": "", "id_number": ""}, m.org, record.get("mobile", "")) from None
        if changed_identity or changed_record or "id_expiry" in person_fields:
            from models.cards import cards  # the 待办会员 row must be checked again
            cards.invalidate(membership_id=m.id)
        if changed_identity or changed_record:
            AuditLog.record("编辑会员", m, account=account,
                            detail={LABELS.get(k, k): mask(_text(v)) if k == "id_number" else _text(v)
                                    for k, v in {**changed_identity, **changed_record}.items()
                                    if k != "edit_status"})
    return Membership.get_by_id(m.id), message


def _apply_identity(person: Person, fields: dict) -> None:
    if {"id_type", "id_number"} & set(fields):
        id_type = fields.get("id_type", person.id_type)
        id_number = fields.get("id_number", person.id_number)
        other = find_person(id_type, id_number)
        if other is not None and other.id != person.id:
            held = holding(other.id)
            where = f"，属于「{held.org.name}」" if held else ""
            raise DomainError(f"该证件号码已登记在系统中{where}，不能改为此号码", 409)
    Person.update(**fields).where(Person.id == person.id).execute()


def decide_change(change_: MemberChange, action: str, account, reason: str = "") -> MemberChange:
    """会员审核 of an identity change: 通过 applies it, 驳回 keeps the old values."""
    if not can_review(account, change_.org_id):
        raise DomainError("只有上级工会可以审核本单位的信息修改", 403)
    with db.atomic():
        change_ = transition(change_, action, account=account, reason=reason,
                             updates={"decided_by": account.id, "decided_at": now(),
                                      "reason": reason})
        if action == "approve":
            _apply_identity(change_.membership.person, _load(change_.payload))
        Membership.update(edit_status=change_.status, updated_at=now()).where(
            Membership.id == change_.membership_id).execute()
    return change_


def _dump(fields: dict) -> str:
    return json.dumps({k: _text(v) for k, v in fields.items()}, ensure_ascii=False)


def _load(payload: str) -> dict:
    data = json.loads(payload)
    if data.get("birth_date"):
        data["birth_date"] = date.fromisoformat(data["birth_date"])
    return data


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))


# --- 会员审核 -----------------------------------------------------------------------------------
def can_review(account, org_id: int) -> bool:
    """The superior (any ancestor) of the member's union, or the admin."""
    return account.is_admin or account.org.is_above(org_id)


def approve(m: Membership, account, auto: bool = False) -> Membership:
    """会员审核通过: 会员编号 generated (unique, safe under concurrency), counted."""
    if not auto and not can_review(account, m.org_id):
        raise DomainError("只有上级工会可以审核本单位的新会员", 403)
    with db.atomic():
        number = m.member_no or next_member_numbers(1)[0]
        return move(m, "approve", account=account,
                    updates={"member_no": number, "approved_at": now()},
                    detail={"会员编号": number, "方式": "自动（未开启会员审核）" if auto else "上级审核"})


def reject(m: Membership, account, reason: str) -> None:
    """会员审核驳回: the pending membership is removed (the person stays for history); the
    union is told why."""
    if not can_review(account, m.org_id):
        raise DomainError("只有上级工会可以审核本单位的新会员", 403)
    if m.status != PENDING:
        raise DomainError(f"当前状态为「{m.status}」，不能执行「会员审核驳回」")
    if not (reason or "").strip():
        raise DomainError("「会员审核驳回」须填写原因", 422)
    if TransferRequest.select().where((TransferRequest.source == m.id)
                                      & (TransferRequest.status == "待审核")).exists():
        raise DomainError("该会员有待审核的转移申请，请先在“会员转出审核”中处理后再审核", 409)
    from models import messages
    with db.atomic():
        if Membership.delete().where((Membership.id == m.id) & (Membership.status == PENDING)).execute() != 1:
            raise DomainError("该记录的状态已被他人修改，请刷新页面后重试")
        AuditLog.record("会员审核驳回", m, from_state=PENDING, reason=reason, account=account,
                        detail={"姓名": m.person.name, "证件号码": mask(m.person.id_number)})
        messages.post(m.org_id, f"新会员「{m.person.name}」未通过会员审核", body=reason, kind="会员审核")


# --- 删除 ---------------------------------------------------------------------------------------
def delete(m: Membership, account, reason: str) -> Membership:
    """删除 (soft): only 退休 / 犯罪 / 死亡; the person stays for history and may join again."""
    if reason not in DELETE_REASONS:
        raise DomainError("删除原因只能是退休、犯罪或死亡；离职人员请转移至区总工会临时工会", 422)
    if TransferRequest.select().where((TransferRequest.source == m.id)
                                      & (TransferRequest.status == "待审核")).exists():
        raise DomainError("该会员有待审核的转移申请，请先等待审核或撤回申请", 409)
    return move(m, "delete", account=account, reason=reason,
                updates={"leave_date": today(), "leave_reason": reason})


# --- 转移 ---------------------------------------------------------------------------------------
def find_destination(text: str) -> Organization | None:
    """The destination union by exact name or 工会编号 (or 统一社会信用代码)."""
    from models.rules.text import compact, normalize
    name, code = normalize(text), compact(text).upper()
    if not name:
        return None
    return (Organization.select().where((Organization.name == name) | (Organization.union_no == code)
                                        | (Organization.uscc == code)).first())


def request_transfer(m: Membership, to_org: Organization, account, reason: str = "",
                     job: int | None = None) -> TransferRequest:
    """File a transfer of `m` to `to_org`: the destination gets a 转入审核中 membership until the
    source union (or its superior) decides."""
    if to_org.status != "正常":
        raise DomainError(f"「{to_org.name}」已撤销，不能转入", 409)
    if to_org.level != "grassroots" and not to_org.is_temporary:
        raise DomainError(f"「{to_org.name}」不是基层工会，不能接收会员", 409)
    if to_org.id == m.org_id:
        raise DomainError("转入单位与会员所在工会相同", 409)
    if m.status not in HELD:
        raise DomainError(f"用户状态为「{m.status}」的会员不能转移", 409)
    with db.atomic():
        _check_mobile_free(to_org, m.mobile)
        try:
            with db.atomic():
                target = join(m.person, to_org, status=TRANSFER_IN, **{k: getattr(m, k) for k in RECORD_FIELDS})
        except pw.IntegrityError:
            raise DomainError(f"会员「{m.person.name}」已有待审核的转移申请", 409) from None
        request = TransferRequest.create(person=m.person_id, source=m.id, target=target.id,
                                         from_org=m.org_id, to_org=to_org.id,
                                         filed_by_org=account.org_id, filed_by=account.id,
                                         reason=reason[:200], job=job)
        AuditLog.record("申请会员转移", m, account=account,
                        detail={"转入单位": to_org.name, "原因": reason})
    return request


def decide_transfer(request: TransferRequest, action: str, account, note: str = "") -> TransferRequest:
    """会员转出审核: approve (the member moves, keeps the 会员编号), reject (the pending
    membership goes), or withdraw (by the filer)."""
    from models import messages
    if action == "withdraw":
        if not account.is_admin and account.org_id != request.filed_by_org_id:
            raise DomainError("只有提出申请的单位可以撤回", 403)
    elif not request.can_decide(account):
        raise DomainError("只有转出单位或其上级工会可以审核（申请单位不能审核自己的申请）", 403)
    with db.atomic():
        request = transition(request, action, account=account, reason=note,
                             updates={"decided_by": account.id, "decided_at": now(), "note": note})
        source, target = request.source, request.target
        if action == "approve":
            number = source.member_no
            move(source, "transfer_out", account=account, reason=note,
                 updates={"leave_date": today(), "leave_reason": "转出", "member_no": None,
                          "approved_at": None},  # the activation moves with the 会员编号
                 detail={"转入单位": request.to_org.name})
            move(target, "accept", account=account,
                 updates={"member_no": number or next_member_numbers(1)[0], "join_date": today(),
                          "approved_at": source.approved_at or now()},
                 detail={"转出单位": request.from_org.name})
        elif target is not None:
            from models.members import counts as stats
            before = stats.snapshot(target)
            Membership.delete().where(Membership.id == target.id).execute()
            stats.apply_change(before, None)
        outcome = {"approve": "已通过", "reject": "被驳回", "withdraw": "已撤回"}[action]
        body = f"{request.person.name}：{request.from_org.name} → {request.to_org.name}"
        if note:
            body += f"。审核说明：{note}"
        for org_id in {request.filed_by_org_id, request.to_org_id, request.from_org_id} - {account.org_id}:
            messages.post(org_id, f"会员转移申请{outcome}", body=body, kind="会员转出审核",
                          link=f"/members/transfers?status={request.status}")
    return request



# --- checking input (the add / edit form, the imports) -----------------------------------------
def check_identity(values: dict, on: date | None = None) -> tuple[dict, dict]:
    """姓名, 有效证件类型, 证件号码, 性别, 出生日期 (and 证件到期日) from raw text → (fields, errors by
    field). 身份证: 18 digits with a valid check digit (15 converted), birth date and gender
    taken from the number; a different entered value is explained. Other types: birth date and
    gender required; no future birth dates."""
    from models.rules.idnumber import (
        IdError,
        birth_mismatch_message,
        check_other_id,
        check_resident_id,
        gender_mismatch_message,
    )
    from models.rules.text import normalize
    on = on or today()
    fields, errors = {}, {}
    name = _CJK_GAP.sub("", normalize(values.get("name")))  # 张 三 → 张三
    if not name:
        errors["name"] = "请填写姓名"
    elif len(name) > 50:
        errors["name"] = "姓名不能超过50个字"
    fields["name"] = name
    id_type = normalize(values.get("id_type")) or ID_CARD
    if id_type not in ID_TYPES:
        errors["id_type"] = "有效证件类型不正确（非身份证类型请选择其他）"
    fields["id_type"] = id_type
    gender = normalize(values.get("gender"))
    if gender and gender not in ("男", "女"):
        errors["gender"] = "性别只能是男或女"
    birth = _date(values.get("birth_date"), "birth_date", "出生日期", errors)
    if id_type == ID_CARD:
        try:
            rid = check_resident_id(values.get("id_number"), on)
        except IdError as exc:
            errors["id_number"] = str(exc)
        else:
            fields["id_number"] = rid.number
            if gender and gender != rid.gender and "gender" not in errors:
                errors["gender"] = gender_mismatch_message(rid.gender, gender)
            if birth and birth != rid.birth_date:
                errors["birth_date"] = birth_mismatch_message(rid.birth_date)
            gender, birth = rid.gender, rid.birth_date
    else:
        try:
            fields["id_number"] = check_other_id(values.get("id_number"))
        except IdError as exc:
            errors["id_number"] = str(exc)
        if not gender:
            errors.setdefault("gender", "请选择性别（非身份证须填写）")
        if birth is None and "birth_date" not in errors:
            errors["birth_date"] = "请填写出生日期（非身份证须填写）"
    if birth and birth > on and "birth_date" not in errors:
        errors["birth_date"] = "出生日期不能晚于今天"
    fields["gender"], fields["birth_date"] = gender, birth
    expiry = _date(values.get("id_expiry"), "id_expiry", "证件到期日", errors)
    if "id_expiry" in values:
        fields["id_expiry"] = expiry
    return fields, errors


_CJK_GAP = __import__("re").compile(r"(?<=[\u3400-\u9fff·])\s+(?=[\u3400-\u9fff·])")


def check_record(values: dict, partial: bool = False) -> tuple[dict, dict]:
    """The member-record fields from raw text → (record, errors by field). Coded fields take the
    form's defaults when empty; `partial`: only the keys present in `values` (imports)."""
    from models.rules.idnumber import IdError, check_mobile
    from models.rules.text import normalize
    record, errors = {}, {}
    if not partial or "mobile" in values:
        try:
            record["mobile"] = check_mobile(values.get("mobile"))
        except IdError as exc:
            errors["mobile"] = str(exc)
    for key, choices in (("education", EDUCATION), ("household", HOUSEHOLD),
                         ("skill_level", SKILL_LEVELS), ("union_post", UNION_POSTS)):
        if partial and key not in values:
            continue
        value = normalize(values.get(key)) or choices[0]
        if value not in choices:
            errors[key] = f"{LABELS[key]}不正确，可选：{'、'.join(choices)}"
        record[key] = value
    for key, limit in (("address", 200), ("work_unit", 100)):
        if partial and key not in values:
            continue
        value = normalize(values.get(key))
        if len(value) > limit:
            errors[key] = f"{LABELS[key]}不能超过{limit}个字"
        record[key] = value
    if not partial and not record.get("address") and "address" not in errors:
        errors["address"] = "请填写联系地址"
    if not partial or "tags" in values:
        tags = [t for t in (normalize(x) for x in _split_tags(values.get("tags"))) if t]
        unknown = [t for t in tags if t not in MEMBER_TAGS]
        if unknown:
            errors["tags"] = f"会员标签「{'、'.join(unknown)}」不正确，可选：{'、'.join(MEMBER_TAGS)}"
        record["tags"] = "、".join(dict.fromkeys(tags))
    return record, errors


def _split_tags(value) -> list:
    import re
    return re.split(r"[、,，;；\s]+", str(value or ""))


def _date(value, key: str, label: str, errors: dict) -> date | None:
    from datetime import datetime
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    errors[key] = f"{label}格式应为 年-月-日，如 1990-01-31"
    return None
