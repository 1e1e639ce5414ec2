"""The 待办会员 checks (models/rules/cards.py) at their boundaries, and bank card numbers."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules import cards as rules
from tests.factories.cards import luhn_card

TODAY = date(2026, 12, 1)
ID = "310101199001011234"  # born 1990-01-01, valid check digit


def applicant(**changes):
    values = dict(name="张三", id_type="身份证", id_number=ID, birth_date=date(1990, 1, 1),
                  id_expiry=TODAY + timedelta(days=3650), work_unit="上海市黄浦区南京东路商务大楼",
                  mobile="13800000001")
    values.update(changes)
    return rules.Applicant(**values)


def test_a_complete_applicant_passes():
    assert rules.check_application(applicant(), TODAY) == []


@pytest.mark.parametrize("hans,passes", [(6, False), (7, True), (19, True), (20, False)])
def test_work_unit_more_than_6_and_fewer_than_20_chinese_characters(hans, passes):
    unit = ("上海市黄浦区南京东路商务大楼新世界百货有限公司" * 2)[:hans]
    assert rules.han_count(unit) == hans
    reasons = rules.check_application(applicant(work_unit=unit), TODAY)
    assert (reasons == []) is passes
    if not passes:
        assert reasons == [f"工作单位/服务平台须超过6个汉字且少于20个汉字（现为{hans}个汉字）"]


def test_work_unit_counts_chinese_characters_not_digits_or_letters():
    unit = "上海A座1号楼12室"  # 6 汉字 among 10 characters
    assert rules.check_application(applicant(work_unit=unit), TODAY) == [
        "工作单位/服务平台须超过6个汉字且少于20个汉字（现为6个汉字）"]


def test_missing_work_unit_says_it_is_needed_for_a_card():
    assert rules.check_application(applicant(work_unit=" "), TODAY) == [
        "工作单位/服务平台未填写（办理会员服务卡须填写工作单位详细地址）"]


@pytest.mark.parametrize("expiry,passes", [
    (TODAY - timedelta(days=1), False),
    (TODAY, False),  # expires today: not in the future
    (TODAY + timedelta(days=1), True),
    (date(2046, 12, 1), True),  # exactly 20 years: the longest 身份证 validity
    (date(2046, 12, 2), False),
])
def test_id_expiry_must_lie_in_the_future_and_fit_an_id_card(expiry, passes):
    reasons = rules.check_application(applicant(id_expiry=expiry), TODAY)
    assert (reasons == []) is passes, reasons


def test_missing_and_expired_expiry_reasons_name_the_fix():
    assert rules.check_application(applicant(id_expiry=None), TODAY) == [
        "证件到期日未填写，请核对证件后点击「修改证件到期日」填写"]
    assert rules.check_application(applicant(id_expiry=TODAY), TODAY) == [
        "证件已过期或今日到期（证件到期日 2026-12-01），请核对证件后修改证件到期日"]


def test_long_term_only_from_46():
    young = applicant(id_expiry=rules.LONG_TERM, birth_date=date(1980, 12, 2))  # 45, one day short of 46
    old = applicant(id_expiry=rules.LONG_TERM, birth_date=date(1980, 12, 1), id_number="310101198012011235")
    assert rules.check_application(old, TODAY) == []
    assert rules.check_application(young, TODAY) == [
        "证件到期日为长期，但持证人未满46周岁，与身份证有效期不符，请核对证件"]


def test_other_documents_are_not_held_to_the_id_card_validity():
    passport = applicant(id_type="护照", id_number="E12345678", id_expiry=date(2060, 1, 1))
    assert rules.check_application(passport, TODAY) == []


def test_bad_id_number_mobile_and_status():
    reasons = rules.check_application(applicant(id_number="310101199001011230", mobile="", member_status="已转出"),
                                      TODAY)
    assert reasons[0] == "用户状态为「已转出」，只有正常会员可以办卡"
    assert reasons[1].startswith("证件号码无效：")
    assert reasons[2] == "移动电话未填写"
    assert rules.check_application(applicant(), TODAY, mobile_taken_by="本单位办卡会员（李四）") == [
        "移动电话与本单位办卡会员（李四）重复，手机号码不要重复"]


@pytest.mark.parametrize("raw,expected", [
    ("2033-01-01", date(2033, 1, 1)), ("2033/1/1", date(2033, 1, 1)), ("20330101", date(2033, 1, 1)),
    (" ２０３３-０１-０１ ", date(2033, 1, 1)), ("长期", rules.LONG_TERM)])
def test_parse_expiry(raw, expected):
    assert rules.parse_expiry(raw) == expected


@pytest.mark.parametrize("raw", ["", "2033-02-30", "明年", "33-1-1"])
def test_parse_expiry_refuses_with_a_chinese_reason(raw):
    with pytest.raises(ValueError) as exc:
        rules.parse_expiry(raw)
    assert "证件到期日" in str(exc.value)


def test_card_numbers_need_digits_and_a_luhn_check_digit():
    good = luhn_card(1)
    assert rules.clean_card_no(good[:4] + " " + good[4:]) == good
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="Luhn"):
        rules.clean_card_no(bad)
    with pytest.raises(ValueError, match="16至19位"):
        rules.clean_card_no("62258800001")
    with pytest.raises(ValueError, match="未填写"):
        rules.clean_card_no("")


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(min_value=0, max_value=9))
def test_luhn_accepts_exactly_one_check_digit(n, digit):
    card = luhn_card(n)
    candidate = card[:-1] + str(digit)
    ok = True
    try:
        rules.clean_card_no(candidate)
    except ValueError:
        ok = False
    assert ok is (candidate == card)
