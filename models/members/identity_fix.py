"""更正会员证件信息 (the admin's quick fix): find a person by ID number, correct the ID expiry or
the identity fields (name, ID type and number, gender, birth date) in one audited step."""

from peewee import IntegrityError

from models import db
from models.audit import AuditLog
from models.base import DomainError, FieldErrors, today
from models.members import members, people
from models.members.people import MemberChange, Membership, Person
from models.orgs.organizations import Organization
from models.rules.idnumber import IdError, check_resident_id, normalize_id
from models.rules.text import mask

FIELDS = ("name", "id_type", "id_number", "gender", "birth_date", "id_expiry")
CLASH = ("该证件号码已登记为另一人员（{name}{where}），不能更正为此号码；"
         "如确属同一人，请先核实并更正另一条记录")


def text(value) -> str:
    """A field's value as the form shows it (a date as 2026-01-31)."""
    return value.isoformat() if hasattr(value, "isoformat") else ("" if value is None else str(value))


def lookup(id_type: str, raw: str) -> Person | None:
    """The person with exactly this ID (normalised; an old 15-digit 身份证 converted to 18)."""
    number = normalize_id(raw)
    if id_type == people.ID_CARD:
        try:
            number = check_resident_id(number, today()).number
        except IdError:
            pass
    return people.find_person(id_type, number) if number else None


def memberships(person: Person):
    """The person's memberships with their unions, the newest first."""
    return (Membership.select(Membership, Organization).join(Organization)
            .where(Membership.person == person.id).order_by(Membership.id.desc()))


def correct(person: Person, values: dict, reason: str, by=None) -> tuple[dict, dict]:
    """Check the form's `values` (members.check_identity) and the reason, then correct the changed
    fields; returns (the checked fields, {label: [old, new]}). Refused with FieldErrors for the
    form's fields, with DomainError when nothing changed, a member change awaits review or the new
    ID belongs to another person."""
    fields, errors = members.check_identity(values)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写原因（记入操作日志）"
    elif len(reason) > 500:
        errors["reason"] = "原因不能超过500个字"
    if errors:
        raise FieldErrors("请检查填写的内容", errors)
    fields = {k: fields.get(k) for k in FIELDS}
    return fields, _apply(person, fields, reason, by)


def _apply(person: Person, fields: dict, reason: str, by) -> dict:
    changed = {k: v for k, v in fields.items() if getattr(person, k) != v}
    if not changed:
        raise DomainError("填写的信息与系统中的一致，没有需要更正的内容", 422)
    # The word of MemberChange's 待审核 is the member's (people.PENDING).
    if MemberChange.select().join(Membership).where((Membership.person == person.id)
                                                    & (MemberChange.status == people.PENDING)).exists():
        raise DomainError("该会员有待上级工会审核的信息修改，请先完成会员审核后再更正", 409)
    other = people.find_person(fields["id_type"], fields["id_number"])
    if other is not None and other.id != person.id:
        held = people.holding(other.id)
        raise DomainError(CLASH.format(name=other.name, where=f"，属于「{held.org.name}」" if held else ""), 409)

    def shown(key, value):  # every kind of ID number masked, not only the long digit runs
        return mask(text(value)) if key == "id_number" else text(value)
    detail = {people.LABELS[k]: [shown(k, getattr(person, k)), shown(k, v)] for k, v in changed.items()}
    current = memberships(person).first()
    with db.atomic():
        try:
            with db.atomic():
                Person.update(**changed).where(Person.id == person.id).execute()
        except IntegrityError:  # another operator registered that number a moment ago
            other = people.find_person(fields["id_type"], fields["id_number"])
            raise DomainError(CLASH.format(name=other.name if other else "刚登记", where=""), 409) from None
        people.member_changed(person_id=person.id)  # e.g. a queued card application is checked again
        # On the member's 操作日志 (its current union's record), or the person's when never a member.
        AuditLog.record("更正会员证件信息", current or person, reason=reason, account=by,
                        detail={"姓名": person.name, **detail})
    return detail
