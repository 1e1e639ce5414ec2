"""保障信息查询 (spec 60 "Centre", issue 8): every coverage period of one person, by ID number —
any year, union, channel, source — within the asking account's scope.

One indexed query: the person by `person (id_number, id_type)`, the periods by
`enrollment_person_id`, their year, union, submission and type joined in. The scope is the
enrollment's union (the caller passes the sub-query of organisation ids, None for city-wide):
申工社 rows have no union and are seen city-wide only.
"""

from datetime import date

import peewee as pw

from models import db
from models.base import DomainError
from models.enroll.enrollment import INDIVIDUAL, Enrollment, Submission
from models.enroll.plans import ProtectionType, ProtectionYear
from models.members.people import Person
from models.orgs.organizations import Organization
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


_SCOPE = "__scope__"
_compiled: dict = {}  # (scoped, database) → (query, SQL)


def _periods_query(scoped: bool):
    query = (Enrollment.select(Enrollment, Person, ProtectionYear, Organization, Submission, ProtectionType)
             .join(Person, on=(Enrollment.person == Person.id))
             .switch(Enrollment).join(ProtectionYear, on=(Enrollment.year == ProtectionYear.id))
             .switch(Enrollment).join(Organization, pw.JOIN.LEFT_OUTER, on=(Enrollment.org == Organization.id))
             .switch(Enrollment).join(Submission, pw.JOIN.LEFT_OUTER, on=(Enrollment.submission == Submission.id))
             .switch(Enrollment).join(ProtectionType, pw.JOIN.LEFT_OUTER, on=(Enrollment.type == ProtectionType.id))
             .where(Person.id_number == "")
             .order_by(ProtectionYear.year.desc(), Enrollment.start.desc(), Enrollment.id.desc()))
    return query.where(Enrollment.org.in_(pw.SQL(_SCOPE))) if scoped else query


def person_of(id_number: str) -> Person | None:
    """The person of an ID number as stored (the name shown above the query's result)."""
    return Person.get_or_none(Person.id_number == id_number)


def periods(id_number: str, org_ids=None) -> list:
    """The person's enrollments (newest year first), each with .person, .year, .org, .submission
    and .type loaded; only those of unions in `org_ids` (a sub-query) when it is given.

    peewee takes 1.5 ms to compile this six-table select — thirty times what the database needs
    to run it — so it is compiled once per shape and run with the number (and the scope
    sub-query's SQL) put in; peewee still builds the objects from the rows."""
    scoped = org_ids is not None
    key = (scoped, id(db.obj))
    if key not in _compiled:
        query = _periods_query(scoped)
        _compiled[key] = (query, query.sql()[0])
    query, sql = _compiled[key]
    params = [id_number]
    if scoped:
        sub_sql, sub_params = org_ids.sql()
        sql = sql.replace(_SCOPE, f"({sub_sql})", 1)
        params += sub_params
    return list(query._get_cursor_wrapper(db.execute_sql(sql, params)))


def union_name(e: Enrollment) -> str:
    """单位名称: the union, or 申工社 for a person's own enrollment."""
    if e.source == INDIVIDUAL or e.org_id is None:
        return INDIVIDUAL
    return e.org.name


def state(e: Enrollment) -> str:
    """状态: 有效 while its submission stands, else 已失效 — with the submission's status."""
    label = ACTIVE_LABEL if e.active else RELEASED_LABEL
    return f"{label}（{e.submission.status}）" if e.submission_id else label
