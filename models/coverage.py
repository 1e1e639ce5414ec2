"""保障信息查询 (spec 60 "Centre", issue 8): every coverage period of one person, by ID number —
any year, union, channel, source — within the asking account's scope.

One indexed query: the person by `person (id_number, id_type)`, the periods by
`enrollment_person_id`, their year, union, submission and type joined in. The scope is the
enrollment's union (the caller passes the sub-query of organisation ids, None for city-wide):
申工社 rows have no union and are seen city-wide only.
"""

from datetime import date

import peewee as pw

from models.base import DomainError
from models.enrollment import INDIVIDUAL, Enrollment, Submission
from models.members import Person
from models.orgs import Organization
from models.plans import ProtectionType, ProtectionYear
from models.rules.idnumber import IdError, check_other_id, check_resident_id, normalize_id

NOTHING_IN_SCOPE = "未查询到该证件号码在本单位范围内的参保信息"
NOTHING = "未查询到该证件号码的参保信息"
ACTIVE_LABEL, RELEASED_LABEL = "有效", "已失效"


def clean_id_number(raw, on: date) -> str:
    """The ID number as stored (spaces gone, full-width → half-width, upper case); a resident ID
    is checked digit by digit, anything else as another document. DomainError (422) names the
    field."""
    number = normalize_id(raw)
    try:
        if number and (number.isdigit() or (number[:-1].isdigit() and number[-1] == "X")):
            return check_resident_id(number, on).number
        return check_other_id(number)
    except IdError as exc:
        raise DomainError(f"证件号码：{exc.message}", 422) from None


def periods(id_number: str, org_ids=None) -> list:
    """The person's enrollments (newest year first), each with .person, .year, .org, .submission
    and .type loaded; only those of unions in `org_ids` when it is given."""
    query = (Enrollment.select(Enrollment, Person, ProtectionYear, Organization, Submission, ProtectionType)
             .join(Person, on=(Enrollment.person == Person.id))
             .switch(Enrollment).join(ProtectionYear, on=(Enrollment.year == ProtectionYear.id))
             .switch(Enrollment).join(Organization, pw.JOIN.LEFT_OUTER, on=(Enrollment.org == Organization.id))
             .switch(Enrollment).join(Submission, pw.JOIN.LEFT_OUTER, on=(Enrollment.submission == Submission.id))
             .switch(Enrollment).join(ProtectionType, pw.JOIN.LEFT_OUTER, on=(Enrollment.type == ProtectionType.id))
             .where(Person.id_number == id_number)
             .order_by(ProtectionYear.year.desc(), Enrollment.start.desc(), Enrollment.id.desc()))
    if org_ids is not None:
        query = query.where(Enrollment.org.in_(org_ids))
    return list(query)


def union_name(e: Enrollment) -> str:
    """单位名称: the union, or 申工社 for a person's own enrollment."""
    if e.source == INDIVIDUAL or e.org_id is None:
        return INDIVIDUAL
    return e.org.name


def state(e: Enrollment) -> str:
    """状态: 有效 while its submission stands, else 已失效 — with the submission's status."""
    label = ACTIVE_LABEL if e.active else RELEASED_LABEL
    return f"{label}（{e.submission.status}）" if e.submission_id else label
