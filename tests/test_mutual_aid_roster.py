"""清册人员 (issue 18 items 4 and 9, seed 004): the person fields, and one ID number insured at most
once per protection year across all units — the second unit is told the holding unit and its
handler's contact; a database constraint on both databases; two units at once leave one."""

from datetime import date

import peewee as pw
import pytest

from models import db
from models.base import DomainError, FieldErrors
from models.mutual_aid import roster_ops, years
from models.mutual_aid.batches import CHOOSE_ITEMS, TO_CHECK, RosterEntry
from tests import factories
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, person
from tests.helpers import race


def test_people_come_in_with_their_fields(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    rows = [person(1, has_social_insurance=True),
            {"id_type": "护照", "id_number": "e1234 5678", "name": "John Smith", "gender": "男",
             "birth_date": date(1980, 5, 1)}]
    assert roster_ops.add_entries(batch, rows, code.account) == 2
    resident, passport = RosterEntry.select().order_by(RosterEntry.id)
    assert (resident.id_number, resident.gender, resident.birth_date) == (id_number(1), "男", date(1966, 1, 1))
    assert (resident.has_social_insurance, resident.employment, resident.year_id) == (True, "在职", batch.year_id)
    assert (passport.id_number, passport.employment, passport.imported_name) == ("E12345678", "-", "John Smith")


def test_bad_rows_are_refused_naming_the_row_and_field(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    with pytest.raises(FieldErrors, match="第2人 出生日期：证件类型为非身份证的，出生日期为必填项"):
        roster_ops.add_entries(batch, [person(1), {"id_type": "护照", "id_number": "E12345678", "name": "A",
                                                   "gender": "男"}], code.account)
    with pytest.raises(FieldErrors, match="第1人 性别：性别与身份证号码不符"):
        roster_ops.add_entries(batch, [person(1, gender="女")], code.account)
    with pytest.raises(DomainError, match=f"第2人 证件号码{id_number(3)}与第1人重复"):
        roster_ops.add_entries(batch, [person(3), person(3)], code.account)
    assert RosterEntry.select().count() == 0


def test_a_person_insured_by_another_unit_is_refused_naming_it_and_its_handler(city):
    year = aid_year()
    holder, here = approved_code(city, 1), approved_code(city, 2)
    roster_ops.add_entries(batch_in(holder, TO_CHECK, year=year), [person(5)], holder.account)
    mine = batch_in(here, TO_CHECK, year=year)
    with pytest.raises(DomainError) as refused:
        roster_ops.add_entries(mine, [person(6), person(5)], here.account)
    assert refused.value.message == (
        f"「参保人5」（证件号码{id_number(5)}）本保障年度已被「上海互助测试1有限公司」占用"
        "（经办人：经办人1，联系电话：13800000001），一个证件号码在一个参保年度只能参保一次")
    assert RosterEntry.select().where(RosterEntry.batch == mine.id).count() == 0  # nothing half-written
    instant = batch_in(holder, TO_CHECK, kind=years.INSTANT, year=year)
    roster_ops.add_entries(instant, [person(7)], holder.account)
    with pytest.raises(DomainError, match=f"「参保人7」（证件号码{id_number(7)}）已在本批次清册中"):
        roster_ops.add_entries(instant, [person(7)], holder.account)


def test_a_roster_past_validation_is_locked(city):
    code = approved_code(city, 1)
    batch = batch_in(code, CHOOSE_ITEMS)
    with pytest.raises(DomainError, match="当前状态为「保障项目待选择」，清册不能修改"):
        roster_ops.add_entries(batch, [person(1)], code.account)
    with pytest.raises(DomainError, match="清册不能修改"):
        roster_ops.remove_entries(batch, [1], code.account)


def test_removing_people_frees_their_id_numbers(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), person(2)], code.account)
    entry = RosterEntry.get(RosterEntry.id_number == id_number(1))
    assert roster_ops.remove_entries(batch, [entry.id], code.account) == 1
    other = approved_code(city, 2)
    assert roster_ops.add_entries(batch_in(other, TO_CHECK), [person(1)], other.account) == 1


def test_once_per_year_is_a_database_constraint(city):
    year = aid_year()
    code = approved_code(city, 1)
    first, second = batch_in(code, TO_CHECK, year=year), batch_in(code, TO_CHECK, kind=years.INSTANT, year=year)
    values = dict(year=year.id, id_number=id_number(9), name="甲", gender="男", birth_date=date(1966, 1, 1))
    RosterEntry.create(batch=first.id, **values)
    with pytest.raises(pw.IntegrityError), db.atomic():
        RosterEntry.create(batch=second.id, **values)
    RosterEntry.create(batch=second.id, active=False, **values)  # an entry no longer standing does not count
    next_year = years.create_year(2027)
    RosterEntry.create(batch=batch_in(code, TO_CHECK, year=next_year).id, **dict(values, year=next_year.id))


def test_two_units_adding_the_same_person_at_once_one_wins(committed):
    city = factories.make_city()
    year = aid_year()
    codes = [approved_code(city, 1), approved_code(city, 2)]
    batches = [batch_in(c, TO_CHECK, year=year) for c in codes]
    outcomes = race(*[lambda b=b, c=c: roster_ops.add_entries(b, [person(11)], c.account)
                      for b, c in zip(batches, codes, strict=True)])
    assert outcomes.count("ok") == 1, outcomes
    refusal = [o for o in outcomes if o != "ok"][0]
    assert "本保障年度已被「上海互助测试" in refusal and "经办人：经办人" in refusal, refusal
    assert RosterEntry.select().where(RosterEntry.id_number == id_number(11)).count() == 1
