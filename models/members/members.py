"""会员信息: the roster's operations — 新增会员, 编辑, 删除 — and the one way memberships change.

Every membership change goes through `join()` / `change()` / `move()` (or `counts.rebuild()` after
bulk work), which keep the dashboard counters exact; a member who leaves leaves the card area's
待办会员列表 too, and an edited member's 待办 row is checked again. The tables and their words are
in models/members/people.py; 会员审核 and 会员转移 in models/members/member_review.py. The input
checks of the add / edit form and the imports (check_identity, check_record) are here too.
"""

import json
import re
from datetime import date, datetime

import peewee as pw

from models import db, figures
from models.audit import AuditLog
from models.base import DomainError, now, today
from models.members import counts, people
from models.members.people import (
    ACTIVE_STATUSES,
    DELETE_REASONS,
    DELETED,
    EDUCATION,
    HOUSEHOLD,
    ID_CARD,
    ID_TYPES,
    IDENTITY,
    LABELS,
    MEMBER_TAGS,
    NORMAL,
    PENDING,
    SKILL_LEVELS,
    TRANSFER_IN,
    TRANSFERRED,
    UNION_POSTS,
    WAITING,
    MemberChange,
    Membership,
    Person,
    TransferRequest,
    find_person,
    held_elsewhere_message,
    holding,
    next_member_numbers,
    review_required,
)
from models.orgs.organizations import Organization
from models.rules.idnumber import (
    IdError,
    birth_mismatch_message,
    check_mobile,
    check_other_id,
    check_resident_id,
    gender_mismatch_message,
)
from models.rules.text import mask, normalize
from models.workflow import transition


# --- the one way memberships change (keeps the dashboard counters exact) -----------------------
def join(person: Person, org: Organization, **fields) -> Membership:
    """Create a membership and count it."""
    with db.atomic(), figures.people([getattr(person, "id", person)]):
        m = Membership.create(person=person, org=org, **fields)
        counts.apply_change(None, m)
    return m


def change(m: Membership, **fields) -> Membership:
    """Update a membership (status, org, dates …) and adjust the counters in one transaction."""
    with db.atomic(), figures.people([m.person_id]):
        before = counts.snapshot(Membership.get_by_id(m.id))
        Membership.update(**fields).where(Membership.id == m.id).execute()
        m = Membership.get_by_id(m.id)
        counts.apply_change(before, m)
    return m


def move(m: Membership, action: str, account=None, reason: str = "", updates: dict | None = None,
         detail=None) -> Membership:
    """A workflow step of a membership (compare-and-set, audited) with its counter change."""
    with db.atomic(), figures.people([m.person_id]):
        before = counts.snapshot(m)
        m = transition(m, action, account=account, reason=reason,
                       updates={"updated_at": now(), **(updates or {})}, detail=detail)
        counts.apply_change(before, m)
        if m.status in (TRANSFERRED, DELETED):  # a member who left is no longer queued for a card here
            people.member_left(m.id)
    return m


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
        check_mobile_free(org, record.get("mobile", ""))
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
            m = activate(m, account, "自动（未开启会员审核）")
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


def check_mobile_free(org: Organization, mobile: str, exclude: int | None = None) -> None:
    if not mobile:
        return
    query = (Membership.select(Membership, Person).join(Person)
             .where((Membership.org == org.id) & (Membership.mobile == mobile)
                    & Membership.status.in_(ACTIVE_STATUSES)))
    if exclude:
        query = query.where(Membership.id != exclude)
    other = query.first()
    if other is not None:
        raise DomainError(mobile_taken(other.person.name), 409)


def mobile_taken(holder: str) -> str:
    """The refusal of a mobile number held by another current member of the union (`holder`)."""
    return f"移动电话已被本工会会员「{holder}」使用（手机号码不要重复）"


def _integrity_refusal(person_fields: dict, org: Organization, mobile: str) -> DomainError:
    """A constraint fired because another operator got there first: say who holds what."""
    person = find_person(person_fields["id_type"], person_fields["id_number"])
    if person is not None:
        try:
            _check_not_held(person, org)
        except DomainError as exc:
            return exc
    try:
        check_mobile_free(org, mobile)
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
            check_mobile_free(m.org, changed_record["mobile"], exclude=m.id)
        if changed_identity and m.status == NORMAL and review_required(m.org):
            if MemberChange.select().where((MemberChange.membership == m.id)
                                           & (MemberChange.status == WAITING)).exists():
                raise DomainError("该会员已有待审核的信息修改，请等待审核后再修改证件信息", 409)
            MemberChange.create(org=m.org_id, membership=m.id, submitted_by=account.id,
                                payload=_dump(changed_identity),
                                before=_dump({k: getattr(person, k) for k in changed_identity}))
            changed_record["edit_status"] = WAITING
            message = "证件信息的修改已提交上级审核，审核通过后生效；其他信息已保存"
        elif changed_identity:
            apply_identity(person, changed_identity)
        if "id_expiry" in person_fields and person.id_expiry != person_fields["id_expiry"]:
            Person.update(id_expiry=person_fields["id_expiry"]).where(Person.id == person.id).execute()
        if changed_record:
            try:
                with db.atomic():
                    Membership.update(updated_at=now(), **changed_record).where(Membership.id == m.id).execute()
            except pw.IntegrityError:
                raise _integrity_refusal({"id_type": "", "id_number": ""}, m.org, record.get("mobile", "")) from None
        if changed_identity or changed_record or "id_expiry" in person_fields:
            people.member_changed(membership_id=m.id)  # e.g. the 待办会员 row must be checked again
        if changed_identity or changed_record:
            AuditLog.record("编辑会员", m, account=account,
                            detail={LABELS.get(k, k): mask(_text(v)) if k == "id_number" else _text(v)
                                    for k, v in {**changed_identity, **changed_record}.items()
                                    if k != "edit_status"})
    return Membership.get_by_id(m.id), message


def apply_identity(person: Person, fields: dict) -> None:
    if {"id_type", "id_number"} & set(fields):
        id_type = fields.get("id_type", person.id_type)
        id_number = fields.get("id_number", person.id_number)
        other = find_person(id_type, id_number)
        if other is not None and other.id != person.id:
            held = holding(other.id)
            where = f"，属于「{held.org.name}」" if held else ""
            raise DomainError(f"该证件号码已登记在系统中{where}，不能改为此号码", 409)
    with db.atomic(), figures.people([person.id]):  # 证件类型 / 证件号码 move 可参保
        Person.update(**fields).where(Person.id == person.id).execute()


def _dump(fields: dict) -> str:
    return json.dumps({k: _text(v) for k, v in fields.items()}, ensure_ascii=False)


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))


def activate(m: Membership, account, way: str) -> Membership:
    """电子会员证激活: 会员编号 generated (unique, safe under concurrency), counted — at once where the
    district does not review new members (新增会员), else by 会员审核通过 (member_review.approve)."""
    with db.atomic():
        number = m.member_no or next_member_numbers(1)[0]
        return move(m, "approve", account=account, updates={"member_no": number, "approved_at": now()},
                    detail={"会员编号": number, "方式": way})


# --- 删除 ---------------------------------------------------------------------------------------
def delete(m: Membership, account, reason: str) -> Membership:
    """删除 (soft): only 退休 / 犯罪 / 死亡; the person stays for history and may join again."""
    if reason not in DELETE_REASONS:
        raise DomainError("删除原因只能是退休、犯罪或死亡；离职人员请转移至区总工会临时工会", 422)
    if TransferRequest.select().where((TransferRequest.source == m.id)
                                      & (TransferRequest.status == WAITING)).exists():
        raise DomainError("该会员有待审核的转移申请，请先等待审核或撤回申请", 409)
    return move(m, "delete", account=account, reason=reason,
                updates={"leave_date": today(), "leave_reason": reason})


def delete_many(memberships: list, account, reason: str) -> None:
    """删除 the ticked members (or every member matching the filter)."""
    for_each(memberships, delete, account, reason)


def for_each(memberships: list, operation, *args) -> None:
    """A batch of the roster (批量删除 / 批量转出): all or nothing; a refusal names the member."""
    with db.atomic(), figures.people([m.person_id for m in memberships]):  # one count for the batch
        for m in memberships:
            try:
                operation(m, *args)
            except DomainError as exc:
                raise DomainError(f"会员「{m.person.name}」：{exc.message}", exc.status) from None


# --- checking input (the add / edit form, the imports) -----------------------------------------
def check_identity(values: dict, on: date | None = None) -> tuple[dict, dict]:
    """姓名, 有效证件类型, 证件号码, 性别, 出生日期 (and 证件到期日) from raw text → (fields, errors by
    field). 身份证: 18 digits with a valid check digit (15 converted), birth date and gender
    taken from the number; a different entered value is explained. Other types: birth date and
    gender required; no future birth dates."""
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


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff·])\s+(?=[\u3400-\u9fff·])")


def check_record(values: dict, partial: bool = False) -> tuple[dict, dict]:
    """The member-record fields from raw text → (record, errors by field). Coded fields take the
    form's defaults when empty; `partial`: only the keys present in `values` (imports)."""
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
    return re.split(r"[、,，;；\s]+", str(value or ""))


def _date(value, key: str, label: str, errors: dict) -> date | None:
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
