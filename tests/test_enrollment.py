"""The enrollment model of both channels: coverage dates, fees through a submission (the manuals'
figures), the type lock, once per person and year city-wide (constraint, thread race on both
databases), the submission workflow over every pair, released people."""

import threading
from datetime import date

import peewee as pw
import pytest

from models import db
from models.audit import AuditLog
from models.base import DomainError
from models.enroll import enrollment, plans
from models.enroll.enrollment import Enrollment, Submission
from tests import factories
from tests.factories.enroll import people, ready_year
from tests.workflow_helpers import check_every_pair


@pytest.mark.parametrize("n,expected", [(31, (80600, 40300, 40300, 0)), (53, (137800, 68900, 68900, 0)),
                                        (36, (93600, 46800, 46800, 0)), (3, (7800, 3900, 3900, 0)),
                                        (2, (5200, 2600, 2600, 0))])
def test_a_centralized_submission_totals_the_manuals_figures(city, n, expected):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    a = plans.types_of(year)[0]
    sub = enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, people(org, n),
                            city.account("grassroots"), on=date(2026, 11, 20))
    assert (sub.fee, sub.city, sub.district, sub.grassroots) == expected
    assert sub.status == enrollment.REVIEWING and sub.count == n
    rows = list(Enrollment.select().where(Enrollment.submission == sub.id))
    assert {(e.start, e.end, e.period) for e in rows} == {(date(2027, 1, 1), date(2027, 12, 31), "全年")}
    assert sum(e.fee for e in rows) == sub.fee  # totals are sums of per-person amounts


@pytest.mark.parametrize("mode,submitted,card_day,expected", [
    (enrollment.HAS_CARD_NO_COVER, date(2027, 3, 5), None, (date(2027, 3, 6), "全年")),
    (enrollment.HAS_CARD_NO_COVER, date(2027, 6, 29), None, (date(2027, 6, 30), "全年")),
    (enrollment.HAS_CARD_NO_COVER, date(2027, 6, 30), None, (date(2027, 7, 1), "半年")),
    (enrollment.NEW_CARD, date(2027, 8, 1), date(2027, 5, 10), (date(2027, 5, 11), "全年")),
    (enrollment.NEW_CARD, date(2027, 1, 3), date(2026, 12, 20), (date(2027, 1, 1), "全年")),
])
def test_instant_coverage_from_the_next_day(mode, submitted, card_day, expected):
    start, end, period = enrollment.coverage(2027, mode, submitted, card_day)
    assert (start, period) == expected and end == date(2027, 12, 31)


def test_coverage_cannot_start_after_the_year():
    with pytest.raises(DomainError, match="已超出2027年度"):
        enrollment.coverage(2027, enrollment.HAS_CARD_NO_COVER, date(2027, 12, 31))


def test_half_year_fees_for_an_instant_submission_in_july(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    sub = enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.HAS_CARD_NO_COVER,
                            plans.types_of(year)[0], people(org, 2), None, on=date(2027, 7, 10))
    assert (sub.fee, sub.city, sub.district, sub.grassroots) == (2600, 1300, 1300, 0)  # 2 × 13 / 6.5 / 6.5 / 0


def test_the_first_submission_fixes_the_type_for_both_channels(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    a, b = plans.types_of(year)[0], plans.types_of(year)[2]
    enrollment.submit(org, year, enrollment.SOCIAL_CHANNEL, enrollment.CENTRAL, a, people(org, 1), None,
                      on=date(2026, 11, 20))
    with pytest.raises(DomainError, match="同一保障年度只能选择一个保障类型。"):
        enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, b, people(org, 1), None,
                          on=date(2026, 11, 21))
    assert Submission.select().count() == 1
    assert enrollment.locked_type(org, year).id == a.id


def test_a_person_insured_elsewhere_is_refused_with_the_holding_union(city):
    year = ready_year(city)
    here, there = city.orgs["grassroots1"], city.orgs["direct1"]
    person = people(here, 1)[0]
    a = plans.types_of(year)[0]
    enrollment.submit(here, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, [person], None, on=date(2026, 11, 2))
    others = people(there, 2)
    with pytest.raises(DomainError) as exc:
        enrollment.submit(there, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, others + [person], None,
                          on=date(2026, 11, 3))
    assert f"本年度已在「{here.name}」参保" in exc.value.message and "联系电话：021-12345678" in exc.value.message
    assert Enrollment.select().where(Enrollment.org == there.id).count() == 0  # nothing half-written


def test_once_per_year_is_a_database_constraint(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    p = people(org, 1)[0]
    values = dict(person=p, year=year, org=org, channel="会员卡参保", mode="集中参保", start=date(2027, 1, 1),
                  end=date(2027, 12, 31), period="全年")
    Enrollment.create(**values)
    with pytest.raises(pw.IntegrityError), db.atomic():
        Enrollment.create(**values)
    Enrollment.create(**dict(values, active=False))  # a released enrollment does not count
    other_year = plans.create_year(2028, with_types=False)
    Enrollment.create(**dict(values, year=other_year))  # another year is another matter


def test_returned_or_withdrawn_submissions_release_their_people(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    a = plans.types_of(year)[0]
    group = people(org, 3)
    sub = enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, group, None,
                            on=date(2026, 11, 2))
    with pytest.raises(DomainError, match="须填写原因"):
        enrollment.move(sub, "return", city.account("district"))
    enrollment.move(sub, "return", city.account("district"), "名单有误")
    assert Submission.get_by_id(sub.id).reason == "名单有误"
    again = enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, group, None,
                              on=date(2026, 11, 3))
    enrollment.move(again, "withdraw", city.account("grassroots"))
    assert Enrollment.select().where(Enrollment.active).count() == 0


def test_submission_workflow_every_pair(city):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    a = plans.types_of(year)[0]

    def make(state):
        sub = Submission.create(org=org, year=year, channel="会员卡参保", mode="集中参保", type=a, status=state)
        return sub
    allowed, forbidden = check_every_pair(Submission, make, account=city.account("district"), reason="名单有误")
    assert (allowed, forbidden) == (6, 5 * 6 - 6)
    assert AuditLog.select().where(AuditLog.object_type == "Submission").count() == 6


def test_two_unions_enrolling_the_same_person_at_once_one_wins(committed):
    city = factories.make_city()
    year = ready_year(city)
    a = plans.types_of(year)[0]
    person = factories.make_member(city.orgs["grassroots1"]).person
    unions = [city.orgs["grassroots1"], city.orgs["direct1"]]
    barrier = threading.Barrier(2)
    outcomes = []

    def run(org):
        db.connect(reuse_if_open=True)
        try:
            barrier.wait()
            enrollment.submit(org, year, enrollment.CARD_CHANNEL, enrollment.CENTRAL, a, [person], None,
                              on=date(2026, 11, 2))
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.message)
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(org,)) for org in unions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert any("同一保障年度只能参保一次" in o for o in outcomes if o != "ok"), outcomes
    assert Enrollment.select().where(Enrollment.active & (Enrollment.person == person.id)).count() == 1
    assert Submission.select().count() == 1
