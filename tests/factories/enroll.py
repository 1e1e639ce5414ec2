"""Enrollment years ready for tests (the districts' 分担比例 saved, a grassroots window open) and the
people to enroll: plain members, and card holders whose 社保状态 lets them join 会员卡参保."""

from datetime import date, datetime, timedelta

from models import figures
from models.base import now, today
from models.cards.cards import Card
from models.enroll import plans
from models.enroll.enrollment import StatusRecord
from models.enroll.plans import Window
from models.members.people import Person
from tests import factories
from tests.factories.cards import luhn_card

IN_WINDOW = datetime(2026, 10, 28, 10, 0)  # inside the districts' 分担比例 window of 2027


def ready_year(city, split=("13", "0"), year=2027):
    y = plans.create_year(year)
    for i, district in enumerate(("district1", "district2")):
        for t in plans.types_of(y):
            d = (t.full_fee - t.subsidy_full) / 100
            parts = split if t.code == "A" else (f"{d:g}", "0")
            plans.save_split(city.orgs[district], t, *parts, city.account("district", i), at=IN_WINDOW)
    return y


def people(org, n):
    return [factories.make_member(org).person for _ in range(n)]


def card_holder(org, employment="在职", insurance="已缴纳", birth=None):
    m = factories.make_member(org)
    if birth:
        Person.update(birth_date=birth).where(Person.id == m.person_id).execute()
    with figures.people([m.person_id]):  # the card and the status as the app writes them: counted
        Card.create(person=m.person_id, org=org, card_no=luhn_card(), issued_date=date(2026, 1, 5),
                    eligible_from=date(2026, 1, 6))
        if employment or insurance:
            StatusRecord.create(id_number=m.person.id_number, name=m.person.name, card_status="正常",
                                employment=employment, insurance=insurance, status_date=date(2026, 10, 1))
    return m


def enrolling_year(city):
    """The year the confirmation screen works on today, its grassroots window open now."""
    on = today()
    y = plans.create_year(on.year + 1 if on.month >= 10 else on.year)
    Window.update(starts=now() - timedelta(days=10), ends=now() + timedelta(days=10)).where(
        (Window.year == y.id) & Window.kind.in_(["grassroots", "grassroots_pay"])).execute()
    a = plans.types_of(y)[0]
    plans.FeeSplit.create(org=city.orgs["district1"], type=a, district_part=1300, grassroots_part=0,
                          valid_from=plans.day_start(date(y.year, 1, 1)), valid_to=plans.day_end(date(y.year, 12, 31)))
    return y


def holder(org, insurance="已缴纳"):
    m = factories.make_member(org)
    with figures.people([m.person_id]):
        Card.create(person=m.person_id, org=org, card_no=luhn_card(), issued_date=date(2026, 1, 5),
                    eligible_from=date(2026, 1, 6))
        StatusRecord.create(id_number=m.person.id_number, name=m.person.name, employment="在职", insurance=insurance,
                            status_date=date(2026, 10, 1))
    return m
