"""The centre's changes keep every district's 保障金额设置 adding up (issue 16 item 10): ticking a
district as 特殊补贴单位 (or unticking it) and changing a type's amounts rebalance the splits — the
district's part takes the difference — shown on a confirmation page before saving (no JS needed:
it re-posts with confirmed=1), each change audited and announced to the district by 消息提醒."""

from datetime import datetime

import pytest
import time_machine

from models.audit import AuditLog
from models.enroll import plans
from models.enroll.plans import FeeSplit
from models.messages import Message
from models.orgs.organizations import Organization
from models.rules import fees as rules
from models.rules.fees import yuan
from tests.factories.enroll import ready_year
from tests.helpers import soup

AFTER_SPLIT_WINDOW = datetime(2026, 11, 20, 10, 0)  # the 2027 split window (25–31 Oct) is over


def text(response):
    return " ".join(soup(response).get_text(" ").split())


def rows(response):
    table = soup(response).find(id="split-changes")
    return [" ".join(tr.get_text(" ").split()) for tr in table.select("tbody tr")]


def figures(org, ptype, n=31):
    return [yuan(x) for x in rules.for_count(plans.parts_for(org, ptype), n).__dict__.values()]


@pytest.mark.parametrize("fees,split,special,expected", [
    (rules.TypeFees(2600, 1300, 1300, 650, 650, 300), rules.Split(1300, 0), True, rules.Split(1950, 0)),
    (rules.TypeFees(2600, 1300, 1300, 650, 650, 300), rules.Split(1950, 0), False, rules.Split(1300, 0)),
    (rules.TypeFees(2600, 1300, 1300, 650, 650, 300), rules.Split(1300, 0), False, rules.Split(1300, 0)),
    (rules.TypeFees(2600, 1300, 1300, 650), rules.Split(800, 500), True, rules.Split(800, 500)),  # no special amount
    (rules.TypeFees(2000, 1000, 1800, 900), rules.Split(300, 500), False, rules.Split(0, 200)),  # never below 0
])
def test_rebalance_lets_the_district_part_take_the_difference(fees, split, special, expected):
    new = rules.rebalance(fees, split, special)
    assert new == expected
    rules.check_split(fees, new, special)  # adds up


def test_ticking_a_district_shows_then_rebalances_its_splits(city, as_role):
    year = ready_year(city)
    district1, a = city.orgs["district1"], plans.types_of(year)[0]
    assert figures(city.orgs["grassroots1"], a) == ["806", "403", "403", "0"]
    with time_machine.travel(AFTER_SPLIT_WINDOW, tick=False):
        centre = as_role("centre")
        ask = centre.post("/plans/special", data={"org": [district1.id]})
        assert ask.status_code == 200
        # nothing saved yet; every changed split is listed: old parts → new parts
        assert not Organization.get_by_id(district1.id).special_subsidy
        assert FeeSplit.get((FeeSplit.org == district1.id) & (FeeSplit.type == a.id)).district_part == 1300
        assert f"{district1.name}：否 → 是" in text(ask)
        listed = rows(ask)
        assert f"{district1.name} 2027年度A类会员专享基本保障 26元 13元 → 6.5元 13元 → 19.5元 0元 → 0元" in listed
        assert len(listed) == 4 and all(district1.name in r for r in listed)  # A, A+, B, B+ of district 1 only
        assert "区局/各级工会默认缴纳随之调整（承担差额）" in text(ask)
        form = soup(ask).find(id="split-confirm")
        assert {(i["name"], i["value"]) for i in form.select("input[type=hidden]") if i["name"] != "csrf_token"} == {
            ("confirmed", "1"), ("org", str(district1.id))}
        done = centre.post("/plans/special", data={"org": [district1.id], "confirmed": "1"})
        assert done.status_code == 302
    assert Organization.get_by_id(district1.id).special_subsidy
    for split in FeeSplit.select().where(FeeSplit.org == district1.id):
        rules.check_split(split.type.fees, split.split, True)  # every split adds up
    assert figures(city.orgs["grassroots1"], a) == ["806", "201.5", "604.5", "0"]  # enrolment is not refused
    assert figures(city.orgs["grassroots2"], a) == ["806", "403", "403", "0"]  # the other district unchanged
    logged = AuditLog.select().where((AuditLog.action == "保障金额随市总调整") & (AuditLog.object_id == district1.id))
    assert logged.count() == 4
    told = Message.select().where((Message.org == district1.id) & Message.title.contains("保障金额已随市总调整"))
    assert told.count() == 4
    assert "区局/各级工会默认缴纳 13元 → 19.5元" in told.where(Message.title.contains("「A类")).get().body
    assert not Message.select().where(Message.org == city.orgs["district2"].id).exists()

    # unticking restores the 13 / 0 split and the manual's figures
    with time_machine.travel(AFTER_SPLIT_WINDOW, tick=False):
        as_role("centre").post("/plans/special", data={"confirmed": "1"})
    assert figures(city.orgs["grassroots1"], a) == ["806", "403", "403", "0"]


def test_a_fee_change_of_a_type_is_shown_then_rebalanced(city, as_role):
    year = ready_year(city)
    a = plans.types_of(year)[0]
    form = {"code": "A", "name": "A类会员专享基本保障", "benefits": "", "full_fee": "26", "half_fee": "13",
            "subsidy_full": "10", "subsidy_half": "5", "special_full": "6.5", "special_half": "3"}
    with time_machine.travel(AFTER_SPLIT_WINDOW, tick=False):
        centre = as_role("centre")
        ask = centre.post(f"/plans/types/{a.id}/edit", data=form)
        assert ask.status_code == 200 and plans.types_of(year)[0].subsidy_full == 1300
        assert rows(ask) == [f"{city.orgs[d].name} 2027年度A类会员专享基本保障 26元 13元 → 10元 13元 → 16元 0元 → 0元"
                             for d in sorted(("district1", "district2"), key=lambda k: city.orgs[k].name)]
        assert centre.post(f"/plans/types/{a.id}/edit", data=dict(form, confirmed="1")).status_code == 302
    assert plans.types_of(year)[0].subsidy_full == 1000
    assert figures(city.orgs["grassroots1"], plans.types_of(year)[0]) == ["806", "310", "496", "0"]
    assert AuditLog.select().where(AuditLog.action == "保障金额随市总调整").count() == 2
    assert Message.select().where(Message.title.contains("保障金额已随市总调整")).count() == 2


def test_a_type_change_that_touches_no_split_saves_at_once(city, as_role, ):
    year = ready_year(city)
    a = plans.types_of(year)[0]
    form = {"code": "A", "name": "A类保障（改名）", "benefits": "", "full_fee": "26", "half_fee": "13",
            "subsidy_full": "13", "subsidy_half": "6.5", "special_full": "6.5", "special_half": "3"}
    assert as_role("centre").post(f"/plans/types/{a.id}/edit", data=form).status_code == 302
    assert plans.types_of(year)[0].name == "A类保障（改名）"
    assert not AuditLog.select().where(AuditLog.action == "保障金额随市总调整").exists()
