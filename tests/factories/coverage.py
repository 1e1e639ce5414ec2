"""Coverage periods for the query tests: a submission with its enrollments written directly (the
enrollment rules themselves are tested in tests/test_enrollment.py); thousands of covered people and
their 给付信息 rows for the claim imports."""

from datetime import date

from models.enroll import claims, plans
from models.enroll.enrollment import CARD_CHANNEL, CENTRAL, DONE, INDIVIDUAL, Enrollment, Submission
from models.members.people import Person
from tests.factories.memberfiles import id_number


def year(y: int):
    return plans.get_year(y) or plans.create_year(y)


def enroll(person, org, y: int, *, start=None, end=None, channel=CARD_CHANNEL, mode=CENTRAL, status=DONE,
           batch="CB202412260001", period="全年"):
    """One enrollment of `person` in `org` for year `y` through a submission in `status`
    (active unless the status released it)."""
    py = year(y)
    ptype = plans.types_of(py)[0]
    active = status in ("区局确认中", "已完成")
    sub = Submission.create(org=org.id, year=py.id, channel=channel, mode=mode, type=ptype.id, status=status,
                            count=1, fee=ptype.full_fee, district_batch=batch)
    return Enrollment.create(person=person.id, year=py.id, org=org.id, submission=sub.id, channel=channel, mode=mode,
                             type=ptype.id, start=start or date(y, 1, 1), end=end or date(y, 12, 31), period=period,
                             fee=ptype.full_fee, active=active)


def enroll_individual(person, y: int, start=None):
    """A 申工社 enrollment (the person's own, imported by the centre): no union, no submission."""
    py = year(y)
    ptype = plans.types_of(py)[0]
    start = start or date(y, 7, 1)
    return Enrollment.create(person=person.id, year=py.id, org=None, source=INDIVIDUAL, channel=CARD_CHANNEL,
                             mode="即时参保", type=ptype.id, start=start, end=date(y, 12, 31), period="半年",
                             fee=ptype.half_fee, active=True)


def many_covered(city, n: int, first: int = 100_000) -> list:
    """n people enrolled for all of 2025 in 测试区1乙公司工会委员会 (bulk rows)."""
    y = year(2025)
    org = city.orgs["direct1"]
    numbers = [id_number(first + i) for i in range(n)]
    Person.insert_many([{"id_number": num, "name": f"员工{i}", "gender": "男", "birth_date": date(1980, 1, 1)}
                        for i, num in enumerate(numbers)]).execute()
    ids = dict(Person.select(Person.id_number, Person.id).where(Person.id_number.in_(numbers)).tuples())
    ptype = plans.types_of(y)[0]
    sub = Submission.create(org=org.id, year=y.id, channel="会员卡参保", mode="集中参保", type=ptype.id,
                            status="已完成", count=n)
    rows = [{"person": ids[num], "year": y.id, "org": org.id, "submission": sub.id, "channel": "会员卡参保",
             "mode": "集中参保", "type": ptype.id, "start": date(2025, 1, 1), "end": date(2025, 12, 31),
             "period": "全年", "active": True} for num in numbers]
    for i in range(0, n, 500):
        Enrollment.insert_many(rows[i:i + 500]).execute()
    return [(num, f"员工{i}") for i, num in enumerate(numbers)]


def claim_rows(people) -> list:
    return [[num, name, "2025", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", claims.CLAIM_TYPES[i % 5],
             f"{100 + i}.{i % 100:02d}", "" if i % 3 else "批量"] for i, (num, name) in enumerate(people)]
