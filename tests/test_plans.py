"""会员专享基本保障 settings: protection years with the reference types, windows at their edges
(and extended for one organisation), 保障金额设置 only in its window and adding up."""

from datetime import datetime

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.enroll import plans
from models.enroll.plans import FeeSplit
from models.orgs.organizations import Organization
from models.rules import fees as rules
from tests.factories.enroll import IN_WINDOW


@pytest.fixture
def year():
    return plans.create_year(2027)


def test_a_new_year_has_the_reference_types_and_timeline(year):
    types = {t.code: t for t in plans.types_of(year)}
    assert list(types) == ["A", "A+", "B", "B+"]
    assert (types["A"].full_fee, types["A"].subsidy_full, types["A"].half_fee, types["A"].subsidy_half) == \
        (2600, 1300, 1300, 650)
    assert (types["B+"].special_full, types["B+"].special_half) == (2250, 1100)
    fee_split = plans.window_state(year, "fee_split", at=datetime(2026, 10, 25, 0, 0))
    assert fee_split.open and fee_split.dates == "2026-10-25 00:00 至 2026-10-31 23:59"


@pytest.mark.parametrize("at,open_", [
    (datetime(2026, 10, 24, 23, 59, 59), False), (datetime(2026, 10, 25, 0, 0), True),
    (datetime(2026, 10, 31, 23, 59, 59), True), (datetime(2026, 11, 1, 0, 0), False)])
def test_window_edges(year, at, open_):
    state = plans.window_state(year, "fee_split", at=at)
    assert state.open is open_
    if not open_:
        assert "（开放时间：2026-10-25 00:00 至 2026-10-31 23:59）" in state.reason
        assert state.reason.startswith("保障金额设置" + ("尚未开始" if at.month == 10 else "已结束"))


def test_no_year_or_no_window_is_closed_with_a_reason():
    assert plans.window_state(None, "grassroots").reason == "保障年度尚未设置，基层工会集中参保确认提交未开放"
    bare = plans.create_year(2030)
    plans.Window.delete().where(plans.Window.year == bare.id).execute()
    assert plans.window_state(bare, "review").reason == "2030年度的区局（产业）/二级工会集中参保审核时间尚未设置"


def test_an_extension_keeps_the_window_open_for_that_organisation_and_below(city, year):
    window = plans.Window.get((plans.Window.year == year.id) & (plans.Window.kind == "grassroots"))
    late = datetime(2026, 12, 27, 10, 0)
    admin = city.account("admin")
    plans.extend_window(window, city.orgs["secondary1"], datetime(2026, 12, 28, 23, 59, 59), admin, "系统故障补办")
    assert plans.window_state(year, "grassroots", city.orgs["grassroots1"], late).open  # below the street union
    assert not plans.window_state(year, "grassroots", city.orgs["direct1"], late).open  # a sibling: closed
    assert not plans.window_state(year, "grassroots", city.orgs["grassroots1"], datetime(2026, 12, 29)).open
    log = AuditLog.get(AuditLog.action == "延长时间窗口")
    assert log.reason == "系统故障补办" and "2026-12-28 23:59" in log.detail
    with pytest.raises(DomainError, match="请填写延长原因"):
        plans.extend_window(window, city.orgs["secondary1"], datetime(2026, 12, 29), admin, " ")
    with pytest.raises(DomainError, match="须晚于原结束时间"):
        plans.extend_window(window, city.orgs["secondary1"], datetime(2026, 12, 20), admin, "x")




def test_fee_split_saved_in_its_window_and_audited(city, year):
    district = city.orgs["district1"]
    a = plans.types_of(year)[0]
    row = plans.save_split(district, a, "13", "0", city.account("district"), at=IN_WINDOW)
    assert (row.district_part, row.grassroots_part) == (1300, 0)
    assert (row.valid_from, row.valid_to) == (datetime(2027, 1, 1), datetime(2027, 12, 31, 23, 59, 59))
    plans.save_split(district, a, "10", "3", city.account("district"), at=IN_WINDOW)
    assert FeeSplit.select().count() == 1
    log = AuditLog.select().where(AuditLog.action == "保障金额设置").order_by(AuditLog.id.desc()).get()
    assert "13" in log.detail and "10" in log.detail
    parts = plans.parts_for(city.orgs["grassroots1"], a)
    assert (parts.fee, parts.city, parts.district, parts.grassroots) == (2600, 1300, 1000, 300)


@pytest.mark.parametrize("district_part,grassroots_part,message", [
    ("13", "1", "须等于参保费用（26元）"), ("abc", "0", "格式不正确"), ("14", "-1", "格式不正确")])
def test_fee_split_that_does_not_add_up_changes_nothing(city, year, district_part, grassroots_part, message):
    with pytest.raises(DomainError, match=message):
        plans.save_split(city.orgs["district1"], plans.types_of(year)[0], district_part, grassroots_part,
                         city.account("district"), at=IN_WINDOW)
    assert FeeSplit.select().count() == 0


def test_fee_split_outside_its_window_is_refused(city, year):
    with pytest.raises(DomainError, match="保障金额设置已结束（开放时间：2026-10-25 00:00 至 2026-10-31 23:59）"):
        plans.save_split(city.orgs["district1"], plans.types_of(year)[0], "13", "0", city.account("district"),
                         at=datetime(2026, 11, 1, 0, 0))
    assert FeeSplit.select().count() == 0


def test_only_a_district_sets_the_split(city, year):
    with pytest.raises(DomainError, match="只有区局（产业）工会"):
        plans.save_split(city.orgs["secondary1"], plans.types_of(year)[0], "13", "0", city.account("secondary"),
                         at=IN_WINDOW)


def test_special_subsidy_groups_apply_below_the_flagged_union(city, year):
    district = city.orgs["district2"]
    Organization.update(special_subsidy=True).where(Organization.id == district.id).execute()
    a = plans.types_of(year)[0]
    with pytest.raises(DomainError, match="市总统一划拨（6.5元）"):
        plans.save_split(district, a, "13", "0", city.account("district", 1), at=IN_WINDOW)
    plans.save_split(district, a, "19.5", "0", city.account("district", 1), at=IN_WINDOW)
    parts = plans.parts_for(city.orgs["grassroots2"], a)
    assert (parts.city, parts.district, parts.grassroots) == (650, 1950, 0)
    half = plans.parts_for(city.orgs["grassroots2"], a, half=True)
    assert (half.fee, half.city, half.district + half.grassroots) == (1300, 300, 1000)
    assert not plans.is_special(city.orgs["grassroots1"])


def test_enrolling_without_a_split_is_refused(city, year):
    with pytest.raises(DomainError, match="尚未设置「A类会员专享基本保障」的保障金额"):
        plans.parts_for(city.orgs["grassroots1"], plans.types_of(year)[0])


def test_31_people_under_the_2025_split_give_the_manuals_totals(city, year):
    a = plans.types_of(year)[0]
    plans.save_split(city.orgs["district1"], a, "13", "0", city.account("district"), at=IN_WINDOW)
    one = plans.parts_for(city.orgs["grassroots1"], a)
    from models.rules.fees import yuan
    assert [yuan(x) for x in rules.for_count(one, 31).__dict__.values()] == ["806", "403", "403", "0"]


def test_year_and_type_codes_are_unique_database_constraints(year):
    import peewee as pw

    from models import db
    with pytest.raises(pw.IntegrityError), db.atomic():
        plans.ProtectionYear.create(year=2027)
    with pytest.raises(pw.IntegrityError), db.atomic():
        plans.ProtectionType.create(year=year, code="A", name="重复", full_fee=1, half_fee=1, subsidy_full=0,
                                    subsidy_half=0)
