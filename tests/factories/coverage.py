"""Coverage periods for the query tests: a submission with its enrollments written directly (the
enrollment rules themselves are tested in tests/test_enrollment.py)."""

from datetime import date

from models.enroll import plans
from models.enroll.enrollment import CARD_CHANNEL, CENTRAL, DONE, INDIVIDUAL, Enrollment, Submission


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
