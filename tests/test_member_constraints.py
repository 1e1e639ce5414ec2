"""The roster's uniqueness rules are database constraints (SQLite and PostgreSQL alike): a direct
insert that breaks one fails, and operators racing each other leave exactly one winner, with a
Chinese refusal for the loser that names where the person (or the mobile) already is."""

import threading
from datetime import date

import pytest
from peewee import IntegrityError

from models import db
from models.base import DomainError
from models.members import counts as stats
from models.members import member_queues, member_review, members
from models.members.people import (
    DELETED,
    MEMBER_NO_START,
    NORMAL,
    PENDING,
    TRANSFER_IN,
    TRANSFERRED,
    Counter,
    Membership,
    Person,
)
from models.orgs.organizations import Organization
from tests import factories


def insert_fails(**values):
    with pytest.raises(IntegrityError):
        with db.atomic():
            Membership.insert(**values).execute()


def person(number=None, name="测试人员") -> Person:
    birth = date(1985, 5, 5)
    while number is None:  # a random number of that birthday, not one the city already holds
        number = factories.id_number(factories._rng, birth, True)
        number = None if Person.select().where(Person.id_number == number).exists() else number
    return Person.create(id_number=number, name=name, gender="男", birth_date=birth)


# --- direct inserts ---------------------------------------------------------------------------
def test_a_person_is_registered_once(city):
    held = factories.make_member(city.orgs["grassroots1"]).person
    with pytest.raises(IntegrityError):
        with db.atomic():
            Person.insert(id_type=held.id_type, id_number=held.id_number, name="另一人", gender="男").execute()
    # the same number under another ID type is another document
    Person.create(id_type="其他", id_number=held.id_number, name="另一人", gender="男")


@pytest.mark.parametrize("held_status", [PENDING, NORMAL])
@pytest.mark.parametrize("second_status", [PENDING, NORMAL])
def test_a_person_is_held_by_one_union_at_a_time(city, held_status, second_status):
    p = person()
    Membership.insert(person=p.id, org=city.orgs["grassroots1"].id, status=held_status).execute()
    insert_fails(person=p.id, org=city.orgs["direct1"].id, status=second_status)
    insert_fails(person=p.id, org=city.orgs["grassroots2"].id, status=second_status)  # another district too
    # while held, one transfer-in may wait elsewhere; old memberships never block
    Membership.insert(person=p.id, org=city.orgs["direct1"].id, status=TRANSFER_IN).execute()
    Membership.insert(person=p.id, org=city.orgs["direct2"].id, status=TRANSFERRED).execute()
    Membership.insert(person=p.id, org=city.orgs["grassroots2"].id, status=DELETED).execute()


def test_one_pending_transfer_per_person(city):
    p = person()
    Membership.insert(person=p.id, org=city.orgs["grassroots1"].id, status=NORMAL).execute()
    Membership.insert(person=p.id, org=city.orgs["direct1"].id, status=TRANSFER_IN).execute()
    insert_fails(person=p.id, org=city.orgs["grassroots2"].id, status=TRANSFER_IN)


@pytest.mark.parametrize("first", [PENDING, NORMAL, TRANSFER_IN])
@pytest.mark.parametrize("second", [PENDING, NORMAL, TRANSFER_IN])
def test_a_mobile_once_among_a_unions_current_members(city, first, second):
    union = city.orgs["grassroots1"]
    Membership.insert(person=person().id, org=union.id, status=first, mobile="13800138000").execute()
    insert_fails(person=person().id, org=union.id, status=second, mobile="13800138000")


@pytest.mark.parametrize("gone", [TRANSFERRED, DELETED])
def test_a_mobile_of_a_member_who_left_may_be_used_again(city, gone):
    union = city.orgs["grassroots1"]
    Membership.insert(person=person().id, org=union.id, status=gone, mobile="13800138000").execute()
    Membership.insert(person=person().id, org=union.id, status=NORMAL, mobile="13800138000").execute()
    assert Membership.select().where(Membership.mobile == "13800138000").count() == 2


def test_the_same_mobile_in_two_unions_and_empty_mobiles_are_allowed(city):
    for union in ("grassroots1", "direct1"):
        Membership.insert(person=person().id, org=city.orgs[union].id, status=NORMAL, mobile="13800138000").execute()
    for _ in range(2):
        Membership.insert(person=person().id, org=city.orgs["grassroots1"].id, status=NORMAL, mobile="").execute()


def test_member_numbers_are_unique(city):
    held = factories.make_member(city.orgs["grassroots1"], member_no="3100000001")
    insert_fails(person=person().id, org=city.orgs["direct2"].id, status=NORMAL, member_no=held.member_no)
    # no number yet (待审核) is not a duplicate
    for _ in range(2):
        Membership.insert(person=person().id, org=city.orgs["direct1"].id, status=PENDING, member_no=None).execute()


# --- operators racing (committed data, one connection per thread) ------------------------------
def race(*calls):
    """Run the calls in threads released together; each thread has its own connection (peewee's
    connection state is per thread) and closes it. Returns "ok" or the refusal per call."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            calls[i]()
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.message
        except Exception as exc:  # noqa: BLE001 — e.g. "database is locked": shown in the assertion
            outcomes[i] = f"error: {exc!r}"
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def identity(name: str, number: str) -> dict:
    fields, errors = members.check_identity({"name": name, "id_number": number})
    assert not errors, errors
    return fields


def test_two_unions_adding_the_same_new_person_one_wins(committed):
    city = factories.make_city()
    unions = [city.orgs["grassroots1"], city.orgs["direct1"]]
    accounts = [city.account("grassroots", 0), city.account("grassroots", 2)]
    for round_ in range(3):
        fields = identity("张三", factories.id_number(factories._rng, date(1990, 1, 1 + round_), True))

        def add(i, fields=fields):
            return lambda: members.add(unions[i], accounts[i], fields, {"mobile": "", "address": "上海市"})

        outcomes = race(add(0), add(1))
        assert outcomes.count("ok") == 1, outcomes
        held = Membership.select().join(Person).where(Person.id_number == fields["id_number"])
        assert held.count() == 1, outcomes
        winner = held.get().org
        loser = [o for o in outcomes if o != "ok"]
        assert len(loser) == 1, outcomes
        # the refusal names the union that holds the person, and points to 转入
        assert f"该会员已是「{winner.name}」的会员" in loser[0], outcomes
        assert "从其他工会转入会员到本工会" in loser[0]
        assert Person.select().where(Person.id_number == fields["id_number"]).count() == 1


def test_two_adds_with_one_mobile_into_one_union_one_wins(committed):
    city = factories.make_city()
    union, account = city.orgs["grassroots1"], city.account("grassroots", 0)
    people = [identity(f"同号{i}", factories.id_number(factories._rng, date(1991, 2, 3 + i), False)) for i in range(2)]

    def add(i):
        return lambda: members.add(union, account, people[i], {"mobile": "13900139000", "address": "上海市"})

    outcomes = race(add(0), add(1))
    assert outcomes.count("ok") == 1, outcomes
    holder = Membership.get(Membership.mobile == "13900139000")
    assert [o for o in outcomes if o != "ok"] == [
        f"移动电话已被本工会会员「{holder.person.name}」使用（手机号码不要重复）"], outcomes
    assert Membership.select().where(Membership.org == union.id).count() == 1


def pending_members(union, count):
    return [factories.make_member(union, status=PENDING, member_no=None).id for _ in range(count)]


def check_numbers_issued(district, ids):
    approved = list(Membership.select().where(Membership.id.in_(ids)))
    numbers = [m.member_no for m in approved]
    assert all(m.status == NORMAL for m in approved)
    assert len(set(numbers)) == len(ids)
    assert all(len(n) == 10 and n.isdigit() for n in numbers)
    # consecutive from the counter: none lost, none given twice
    assert sorted(int(n) for n in numbers) == list(range(MEMBER_NO_START + 1, MEMBER_NO_START + len(ids) + 1))
    assert Counter.get_by_id("member_no").value == MEMBER_NO_START + len(ids)
    assert stats.member_total(district.id) == len(ids)


def test_two_reviewers_approving_fifty_each_issue_a_hundred_distinct_numbers(committed):
    city = factories.make_city()
    Organization.update(member_review=True).where(Organization.id == city.orgs["district1"].id).execute()
    batches = [pending_members(city.orgs["grassroots1"], 50), pending_members(city.orgs["direct1"], 50)]
    reviewers = [city.account("secondary", 0), city.account("district", 0)]  # both superiors

    def approve_one_by_one(i):
        def run():
            for member_id in batches[i]:
                member_review.approve(Membership.get_by_id(member_id), reviewers[i])
        return run

    outcomes = race(approve_one_by_one(0), approve_one_by_one(1))
    assert outcomes == ["ok", "ok"], outcomes
    check_numbers_issued(city.orgs["district1"], batches[0] + batches[1])


def test_two_batch_approvals_at_once_issue_a_hundred_distinct_numbers(committed):
    city = factories.make_city()
    batches = [pending_members(city.orgs["grassroots1"], 50), pending_members(city.orgs["direct1"], 50)]
    reviewers = [city.account("secondary", 0), city.account("district", 0)]

    def approve_batch(i):
        return lambda: member_queues.approve_many(
            reviewers[i], list(Membership.select().where(Membership.id.in_(batches[i]))), [])

    outcomes = race(approve_batch(0), approve_batch(1))
    assert outcomes == ["ok", "ok"], outcomes
    check_numbers_issued(city.orgs["district1"], batches[0] + batches[1])
    # each batch got a consecutive block
    for ids in batches:
        numbers = sorted(int(m.member_no) for m in Membership.select().where(Membership.id.in_(ids)))
        assert numbers == list(range(numbers[0], numbers[0] + 50))
