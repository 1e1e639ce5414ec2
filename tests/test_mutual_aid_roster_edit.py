"""参保清册 editing (issue 18 items 4 and 5, seed 004 形成参保名单 / 编辑名单 / 参保名单姓名校验): the two
list sources (last year's 参保成功 people, the 会员库's 正常 members) skipping people held elsewhere
with the holder named, the name matching after every add, 编辑 (non-ID-card only), 移除 / 批量删除
(ticked or all filtered), 设置在职 ("-" only → 在职, A0), 姓名确认 — each refused outside
清册待校验 / 清册校验不通过 — and 是否超龄 in SQL equal to rule 1's is_over_age."""

import json
from datetime import date, datetime, timedelta

import pytest

from models.audit import AuditLog
from models.base import DomainError, FieldErrors
from models.members import members as member_ops
from models.mutual_aid import roster_edit, roster_list, roster_ops
from models.mutual_aid.batches import (
    BATCH_STATES,
    EDITABLE,
    INSURED,
    LAST_YEAR,
    MEMBER_DB,
    TO_CHECK,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.codes import InsuranceCode
from models.mutual_aid.registry import RegistryPayer, match_entries
from models.mutual_aid.years import AidWindow, extend_window
from models.rules.mutual_roster import is_over_age, zhibao
from models.rules.text import mask
from tests import factories
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import aid_year, approved_code, batch_in, open_aid_windows, person
from tests.helpers import race


@pytest.fixture(autouse=True)
def windows_open(request):
    """Every window open (after `committed` empties the tables, when a test asks for it)."""
    if "committed" in request.fixturenames:
        request.getfixturevalue("committed")
    open_aid_windows()


def insured_last_year(code, numbers, year=2025):
    """A 参保成功 batch of `code` in `year` holding resident ID people `numbers`."""
    batch = batch_in(code, INSURED, year=aid_year(year))
    for i in numbers:
        RosterEntry.create(batch=batch.id, year=batch.year_id, id_number=id_number(i), name=f"参保人{i}",
                           gender="男" if int(id_number(i)[16]) % 2 else "女", birth_date=date(1966, 1, 1),
                           employment="-")
    return batch


def passport(n: int, birth=date(1990, 5, 1), gender="女", name=None) -> dict:
    return {"id_type": "护照", "id_number": f"E{n:08d}", "name": name or f"外籍{n}", "gender": gender,
            "birth_date": birth}


def test_last_years_list_takes_the_codes_insured_people_and_lists_those_held_elsewhere(city):
    code, other = approved_code(city, 1), approved_code(city, 2)
    insured_last_year(code, [1, 2, 3])
    insured_last_year(other, [8])  # another code's people are not this unit's
    batch_in(code, TO_CHECK, kind="即时参保", year=aid_year(2025))  # never insured: gives nothing
    roster_ops.add_entries(batch_in(other, TO_CHECK, year=aid_year(2026)), [person(2)], other.account)
    batch = batch_in(code, TO_CHECK, year=aid_year(2026))
    done = roster_edit.add_last_year(batch, code.account)
    assert done.added == 2
    assert done.skipped == [f"「参保人2」（证件号码{mask(id_number(2))}）本保障年度已被「上海互助测试2有限公司」占用"
                            "（经办人：经办人2，联系电话：13800000002），一个证件号码在一个参保年度只能参保一次"]
    mine = RosterEntry.select().where(RosterEntry.batch == batch.id).order_by(RosterEntry.id)
    assert [(e.id_number, e.source, e.year_id) for e in mine] == [(id_number(1), LAST_YEAR, batch.year_id),
                                                                 (id_number(3), LAST_YEAR, batch.year_id)]
    again = roster_edit.add_last_year(batch, code.account)  # a second click adds nobody twice
    assert again.added == 0 and len(again.skipped) == 3 and "已在本批次清册中" in again.skipped[0]
    log = (AuditLog.select().where((AuditLog.action == "添加参保人员") & (AuditLog.object_id == batch.id))
           .order_by(AuditLog.id).first())
    assert json.loads(log.detail) == {"来源": LAST_YEAR, "人数": 2, "跳过": 1}


def test_without_a_last_year_the_unit_is_told(city):
    code = approved_code(city, 1)
    with pytest.raises(DomainError, match="本参保编码2025年度没有参保成功的参保名单"):
        roster_edit.add_last_year(batch_in(code, TO_CHECK, year=aid_year(2026)), code.account)


def test_the_member_database_gives_the_unions_normal_members(city):
    code = approved_code(city, 1)  # its account is grassroots1's
    union = city.orgs["grassroots1"]
    kept = [factories.make_member(union) for _ in range(3)]
    gone = factories.make_member(union)
    member_ops.delete(gone, city.account("grassroots"), "退休")  # 已删除: no longer in the 会员库 list
    factories.make_member(city.orgs["grassroots2"])  # another union's member
    batch = batch_in(code, TO_CHECK)
    done = roster_edit.add_members(batch, code.account)
    numbers = {e.id_number for e in RosterEntry.select().where(RosterEntry.batch == batch.id)}
    expected = {m.person.id_number for m in kept}
    assert numbers == expected and done.added == len(expected) and done.skipped == []
    assert {e.source for e in RosterEntry.select()} == {MEMBER_DB}


def test_a_unit_without_a_union_has_no_member_list(city):
    code = approved_code(city, 1)
    InsuranceCode.update(org=None).where(InsuranceCode.id == code.id).execute()  # as an enterprise's code
    batch = batch_in(InsuranceCode.get_by_id(code.id), TO_CHECK)
    with pytest.raises(DomainError, match="本单位不是工会组织"):
        roster_edit.add_members(batch, code.account)


def test_names_are_matched_after_an_add_and_the_operator_picks_one(city):
    code = approved_code(city, 1)
    member = factories.make_member(city.orgs["grassroots1"], name="张三")
    RegistryPayer.create(social_code="SB001", id_number=member.person.id_number, name="张叁", employment="在职")
    batch = batch_in(code, TO_CHECK)
    roster_edit.add_members(batch, code.account)
    entry = RosterEntry.get(RosterEntry.batch == batch.id)
    # The 建议清册's 社保姓名 replaced the name; the 会员库 knows another one: 警告.
    assert (entry.name, entry.member_name, entry.registry_name, entry.employment) == ("张叁", "张三", "张叁", "在职")
    assert entry.name_warning and roster_list.people(batch, {"warning": "1"}).count() == 1
    assert [n for _s, n in roster_list.candidates(entry)] == ["张三", "张叁"]
    with pytest.raises(DomainError, match="的姓名只能从张三、张叁中选择"):
        roster_edit.confirm_names(batch, {entry.id: "李四"}, code.account)
    assert roster_edit.confirm_names(batch, {entry.id: "张三"}, code.account) == 1
    entry = RosterEntry.get_by_id(entry.id)
    assert (entry.name, entry.name_confirmed, entry.name_warning) == ("张三", True, False)
    match_entries(batch)  # matching again (清册校验) keeps the name the operator picked
    assert RosterEntry.get_by_id(entry.id).name == "张三"
    assert AuditLog.select().where(AuditLog.action == "姓名确认").count() == 1


def test_edit_only_non_id_card_people_and_never_the_id_type(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(1), passport(1)], code.account)
    resident, foreign = RosterEntry.select().order_by(RosterEntry.id)
    with pytest.raises(DomainError, match="证件类型为居民身份证的人员不能编辑"):
        roster_edit.edit_entry(batch, resident, {"name": "改名"}, code.account)
    with pytest.raises(DomainError, match="证件类型不可变更"):
        roster_edit.edit_entry(batch, foreign, {"id_type": "居民身份证", "name": "改名", "gender": "女",
                                                "birth_date": date(1990, 5, 1)}, code.account)
    with pytest.raises(FieldErrors, match="出生日期：证件类型为非身份证的，出生日期为必填项"):
        roster_edit.edit_entry(batch, foreign, {"name": "改名", "gender": "女"}, code.account)
    values = {"name": "Anna Lee", "gender": "男", "birth_date": date(1960, 2, 3)}
    edited = roster_edit.edit_entry(batch, foreign, values, code.account)
    assert (edited.name, edited.gender, edited.birth_date, edited.id_type, edited.id_number) == (
        "Anna Lee", "男", date(1960, 2, 3), "护照", foreign.id_number)
    log = AuditLog.select().where(AuditLog.action == "编辑参保人员").get()
    assert mask(foreign.id_number) in str(log.detail) and foreign.id_number not in str(log.detail)


def test_set_in_service_makes_dash_people_in_service_and_a0_eligible(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [passport(1), passport(2), person(3, has_social_insurance=True)], code.account)
    a, b, c = RosterEntry.select().order_by(RosterEntry.id)
    assert (a.employment, zhibao(a.employment, a.has_social_insurance)) == ("-", False)
    with pytest.raises(DomainError, match="只有职退状态为“-”的人员可以设置在职"):
        roster_edit.set_in_service(batch, code.account, entry_ids=[c.id])
    assert roster_edit.set_in_service(batch, code.account, entry_ids=[a.id, c.id]) == 1
    a = RosterEntry.get_by_id(a.id)
    assert (a.employment, a.has_social_insurance, zhibao(a.employment, a.has_social_insurance)) == ("在职", True, True)
    assert roster_edit.set_in_service(batch, code.account, filters={"employment": "-"}) == 1  # 批量: b
    assert RosterEntry.get_by_id(b.id).employment == "在职"
    match_entries(batch)  # a later match keeps 设置在职
    assert RosterEntry.get_by_id(a.id).employment == "在职"


def test_remove_all_filtered_takes_exactly_the_over_age_people(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)  # 集中参保 2026: ages on 1 July 2026
    rows = [passport(1, date(1971, 7, 1), "女"),  # 55 on 1 July 2026: over age
            passport(2, date(1971, 7, 2), "女"),  # 54 years 364 days: not
            passport(3, date(1966, 7, 1), "男"),  # 60: over age
            passport(4, date(1966, 7, 2), "男")]  # not
    roster_ops.add_entries(batch, rows, code.account)
    assert roster_list.people(batch, {"age": "超龄"}).count() == 2
    assert roster_edit.remove(batch, code.account, filters={"age": "超龄"}) == 2
    assert sorted(e.id_number for e in RosterEntry.select()) == ["E00000002", "E00000004"]
    with pytest.raises(DomainError, match="请选择要移除的人员"):
        roster_edit.remove(batch, code.account, entry_ids=[])


@pytest.mark.parametrize("state", [s for s in BATCH_STATES if s not in EDITABLE])
def test_every_change_is_refused_once_the_roster_is_locked(city, state):
    code = approved_code(city, 1)
    insured_last_year(code, [1])
    batch = batch_in(code, TO_CHECK, year=aid_year(2026))
    roster_ops.add_entries(batch, [passport(2)], code.account)
    locked = batch_in(code, state, kind="即时参保", year=aid_year(2026))
    entry = RosterEntry.create(batch=locked.id, year=locked.year_id, id_type="护照", id_number="E77777777",
                               name="甲", gender="女", birth_date=date(1990, 1, 1), member_name="乙")
    factories.make_member(city.orgs["grassroots1"])
    before = list(RosterEntry.select().where(RosterEntry.batch == locked.id).tuples())
    message = f"当前状态为「{state}」，清册不能修改"
    for call in (lambda: roster_edit.add_last_year(locked, code.account),
                 lambda: roster_edit.add_members(locked, code.account),
                 lambda: roster_edit.edit_entry(locked, entry, {"name": "丙", "gender": "女",
                                                               "birth_date": date(1990, 1, 1)}, code.account),
                 lambda: roster_edit.remove(locked, code.account, entry_ids=[entry.id]),
                 lambda: roster_edit.set_in_service(locked, code.account, entry_ids=[entry.id]),
                 lambda: roster_edit.confirm_names(locked, {entry.id: "乙"}, code.account)):
        with pytest.raises(DomainError, match=message):
            call()
    assert list(RosterEntry.select().where(RosterEntry.batch == locked.id).tuples()) == before


def test_a_change_on_a_page_whose_batch_moved_meanwhile_is_refused(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [passport(1)], code.account)
    shown = AidBatch.get_by_id(batch.id)
    AidBatch.delete().where(AidBatch.id == batch.id).execute()  # 批次删除 in another tab
    with pytest.raises(DomainError, match="请刷新页面后重试"):
        roster_edit.remove(shown, code.account, entry_ids=[1])


def test_over_age_in_the_database_is_rule_ones_is_over_age():
    """latest_birth's bound against is_over_age for reference days around leap days and ordinary ones."""
    days = [date(2026, 7, 1), date(2027, 2, 28), date(2028, 2, 29), date(2028, 2, 28), date(2029, 3, 1),
            date(2026, 12, 31), date(2024, 2, 28), date(2025, 2, 28)]
    for on in days:
        for gender, limit in (("女", 55), ("男", 60)):
            bound = roster_list.latest_birth(on, limit)
            start = date(on.year - limit, 1, 1) - timedelta(days=3)
            for k in range(0, 372):
                birth = start + timedelta(days=k)
                assert (birth <= bound) == is_over_age(birth, gender, on), (on, gender, birth)


def test_last_years_list_and_another_units_upload_at_once_one_wins(committed):
    city = factories.make_city()
    last, new = approved_code(city, 1), approved_code(city, 2)
    insured_last_year(last, [11])  # the person changed jobs: the new unit uploads them
    mine, theirs = batch_in(last, TO_CHECK, year=aid_year(2026)), batch_in(new, TO_CHECK, year=aid_year(2026))
    results = []
    outcomes = race(lambda: results.append(roster_edit.add_last_year(mine, last.account)),
                    lambda: roster_ops.add_entries(theirs, [person(11)], new.account))
    took_it = results[0].added == 1
    if took_it:  # the upload is refused naming the holder
        assert outcomes[0] == "ok" and "本保障年度已被「上海互助测试1有限公司」占用" in outcomes[1], outcomes
    else:  # last year's list skips the person, naming the new unit
        assert outcomes == ["ok", "ok"] and "「上海互助测试2有限公司」占用" in results[0].skipped[0], results
    assert RosterEntry.select().join(AidBatch).where((RosterEntry.id_number == id_number(11))
                                                     & (AidBatch.year == aid_year(2026).id)).count() == 1


def test_the_roster_changes_only_while_the_batchs_window_is_open(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    window = AidWindow.get((AidWindow.year == batch.year_id) & (AidWindow.kind == batch.kind))
    AidWindow.update(starts=datetime(2001, 6, 1), ends=datetime(2001, 6, 30, 23, 59, 59)).where(
        AidWindow.id == window.id).execute()
    factories.make_member(city.orgs["grassroots1"])
    with pytest.raises(DomainError, match="清册只能在办理期间修改：2026年度集中参保已结束"):
        roster_edit.add_members(batch, code.account)
    assert RosterEntry.select().count() == 0
    extend_window(AidWindow.get_by_id(window.id), code, datetime(2100, 1, 1), city.account("admin"), "单位申请延期")
    assert roster_edit.add_members(batch, code.account).added == 1  # the code's extension opens it again
