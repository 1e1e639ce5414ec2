"""Uniqueness rules are database constraints: a direct insert fails on both databases, and two
threads racing leave exactly one winner."""

import threading
from datetime import date

import peewee as pw
import pytest

from models import db
from models.members.people import Membership, Person
from models.orgs.accounts import Account
from models.orgs.organizations import Enterprise, Organization, OrgTree
from tests import factories


def insert_fails(model, **values):
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            model.insert(**values).execute()


def test_direct_inserts_violating_unique_rules_fail(city):
    g = city.orgs["grassroots1"]
    org_row = {"type": "工会委员会", "level": "grassroots", "contact": "", "phone": "", "address": "",
               "is_temporary": False, "depth": 1, "created_at": g.created_at, "updated_at": g.updated_at}
    insert_fails(Organization, name=g.name, **org_row)  # 组织名称
    code = factories.uscc(factories._rng)
    Organization.update(uscc=code).where(Organization.id == g.id).execute()
    insert_fails(Organization, name="另一个工会", uscc=code, **org_row)  # 统一社会信用代码
    insert_fails(Organization, name="又一个工会", union_no=g.union_no, **org_row)  # 工会编号
    insert_fails(OrgTree, ancestor=g.id, descendant=g.id, depth=0)
    account = city.account("grassroots")
    insert_fails(Account, username=account.username, org=g.id, password_hash="x",
                 created_at=account.created_at)
    enterprise = factories.make_enterprise(g)
    insert_fails(Enterprise, org=city.orgs["direct1"].id, name="别的名字", uscc=enterprise.uscc,
                 created_at=enterprise.created_at)
    member = factories.make_member(g)
    person = member.person
    insert_fails(Person, id_type=person.id_type, id_number=person.id_number, name="重复", gender="男",
                 created_at=person.created_at)
    insert_fails(Membership, person=person.id, org=city.orgs["direct1"].id, status="正常",
                 created_at=member.created_at, leave_reason="")  # one active membership per person
    insert_fails(Membership, person=factories.make_member(g).person.id, org=g.id, status="正常",
                 member_no=member.member_no, created_at=member.created_at, leave_reason="")


def test_left_memberships_do_not_block_a_new_one(city):
    member = factories.make_member(city.orgs["grassroots1"])
    Membership.update(status="已转出", member_no=None).where(Membership.id == member.id).execute()
    again = Membership.create(person=member.person, org=city.orgs["direct1"], status="正常")
    assert again.id != member.id


def race(target, count=2):
    """Run target(i) in `count` threads started together; return the list of outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        try:
            barrier.wait()
            with db.atomic():
                target(i)
            outcomes[i] = "ok"
        except pw.IntegrityError:
            outcomes[i] = "refused"
        except pw.OperationalError as exc:  # SQLite busy beyond the timeout would land here
            outcomes[i] = f"error: {exc}"
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_threads_adding_the_same_person_one_wins(committed):
    org = factories.make_org(None, "市总工会", name="竞争测试市总工会")
    number = "11010519491231002X"

    def add(i):
        person = Person.create(id_number=number, name=f"线程{i}", gender="女", birth_date=date(1949, 12, 31))
        Membership.create(person=person, org=org, status="正常")

    for _ in range(3):
        outcomes = race(add)
        assert sorted(outcomes) == ["ok", "refused"], outcomes
        assert Person.select().where(Person.id_number == number).count() == 1
        assert Membership.select().count() == 1
        Membership.delete().execute()
        Person.delete().execute()


def test_two_threads_activating_one_person_in_two_unions_one_wins(committed):
    city = factories.make_org(None, "市总工会", name="竞争测试市总工会2")
    unions = [factories.make_org(city, "工会委员会", name=f"竞争测试工会{i}") for i in range(2)]
    person = Person.create(id_number="110105194912310029", name="甲", gender="女")

    outcomes = race(lambda i: Membership.create(person=person, org=unions[i], status="正常"))
    assert sorted(outcomes) == ["ok", "refused"], outcomes
    assert Membership.select().where(Membership.person == person).count() == 1
