"""Pure rules: 居民身份证 (GB 11643-1999), other document numbers, mobile numbers."""

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from models.rules.idnumber import (
    MOBILE_MESSAGE,
    IdError,
    ResidentId,
    birth_mismatch_message,
    check_mobile,
    check_other_id,
    check_resident_id,
    gender_mismatch_message,
    normalize_id,
)

TODAY = date(2025, 6, 1)


def with_check(body17: str) -> str:
    """Append the GB 11643 check character, computed by python-stdnum (an independent implementation)."""
    return body17 + ric.calc_check_digit(body17 + "0")


def passes_gb11643(number: str) -> bool:
    return len(number) == 18 and number[:17].isascii() and number[:17].isdigit() and number == with_check(number[:17])


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


# The example number printed in GB 11643-1999 itself.
STANDARD = "11010519491231002X"
MAN = with_check("31011519800101123")  # 17th digit 3, odd → 男
WOMAN = with_check("44030619991231004")


def test_check_digit_helper_agrees_with_the_standard_example():
    assert with_check(STANDARD[:17]) == STANDARD
    assert ric.is_valid("360426199101010071")


@pytest.mark.parametrize("number,birth,gender", [
    (STANDARD, date(1949, 12, 31), "女"),
    ("360426199101010071", date(1991, 1, 1), "男"),
    (MAN, date(1980, 1, 1), "男"),
    (WOMAN, date(1999, 12, 31), "女"),
])
def test_known_good_numbers(number, birth, gender):
    assert check_resident_id(number, TODAY) == ResidentId(number, birth, gender, False)


def test_fifteen_digit_number_is_converted():
    result = check_resident_id("110105491231002", TODAY)
    assert result == ResidentId(STANDARD, date(1949, 12, 31), "女", True)
    man = check_resident_id("310115800101123", TODAY)
    assert man.number == MAN and man.birth_date == date(1980, 1, 1) and man.gender == "男" and man.converted


def test_birth_on_today_accepted_tomorrow_refused():
    body = f"310115{TODAY:%Y%m%d}12"
    assert check_resident_id(with_check(body + "1"), TODAY).birth_date == TODAY
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(IdError) as exc:
        check_resident_id(with_check(f"310115{tomorrow:%Y%m%d}121"), TODAY)
    assert exc.value.message == "出生日期不能晚于今天"
    # the same number is fine once that day has come
    assert check_resident_id(with_check(f"310115{tomorrow:%Y%m%d}121"), tomorrow).birth_date == tomorrow


LENGTH = "身份证号码应为18位（15位老号码会自动转换为18位）"
BIRTH = "身份证号码中的出生日期不正确"


@pytest.mark.parametrize("value,message", [
    (None, "请填写证件号码"),
    ("", "请填写证件号码"),
    (" \u3000\t ", "请填写证件号码"),
    ("1234567890", LENGTH),
    (STANDARD + "1", LENGTH),
    ("11010519491231002Y", LENGTH),
    ("X1010519491231002X", LENGTH),
    ("11010519491231002-", LENGTH),
    ("1101051949123100X", LENGTH),  # 17 characters
    ("11010549123100X", LENGTH),  # 15 characters, but not all digits
    ("11010519491231\u0660\u0660\u0662X", LENGTH),  # Arabic-Indic digits are not digits here
    (with_check("01010519491231002"), "身份证号码前6位地区码不正确"),
    (with_check("11010519491331002"), BIRTH),  # month 13
    (with_check("11010520230229002"), BIRTH),  # 2023 is not a leap year
    (with_check("11010519490000002"), BIRTH),
    (with_check("11010518991231002"), BIRTH),  # before 1900
    ("110105491331002", BIRTH),  # 15 digits, month 13
    (with_check("11010520990101002"), "出生日期不能晚于今天"),
    ("110105194912310021", "身份证号码校验位不正确，请核对"),
    ("110105194912310020", "身份证号码校验位不正确，请核对"),
])
def test_refusals_explained(value, message):
    with pytest.raises(IdError) as exc:
        check_resident_id(value, TODAY)
    assert exc.value.message == message
    assert str(exc.value) == message
    assert isinstance(exc.value, ValueError)


def test_leap_day_birth_accepted():
    assert check_resident_id(with_check("11010520000229002"), TODAY).birth_date == date(2000, 2, 29)


def test_normalisation():
    assert normalize_id(None) == ""
    assert normalize_id(" 1101 05\u3000194912\t31002x\xa0") == STANDARD
    assert normalize_id("３１０１１５") == "310115"
    assert normalize_id("ｅ１２３４５６７８") == "E12345678"
    assert normalize_id(12345) == "12345"
    assert check_resident_id("１１０１０５１９４９１２３１００２ｘ", TODAY).number == STANDARD
    assert check_resident_id(" 110105 19491231 002x ", TODAY).number == STANDARD
    assert check_resident_id(full_width(MAN[:6]) + "\u3000" + MAN[6:], TODAY).number == MAN
    assert check_resident_id("110105 491231 002", TODAY).converted


def test_mismatch_messages():
    assert gender_mismatch_message("男", "女") == "性别与身份证号码不符：按身份证号码应为男"
    assert birth_mismatch_message(date(1980, 1, 2)) == "出生日期与身份证号码不符：按身份证号码应为1980-01-02"


# ---- property tests -------------------------------------------------------------------------

DIGITS = "0123456789"


@st.composite
def valid_numbers(draw):
    region = draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=5, max_size=5))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(DIGITS, min_size=3, max_size=3))
    return with_check(f"{region}{birth:%Y%m%d}{sequence}")


ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=DIGITS + "Xx \u3000０１９ｘ", min_size=13, max_size=20),
    st.text(alphabet=DIGITS, min_size=15, max_size=15),
    valid_numbers(),
    valid_numbers().map(lambda n: n[:6] + n[8:17]),  # the 15-digit form
)


@given(ANY_TEXT)
def test_any_text_is_accepted_consistently_or_refused_with_id_error(text):
    try:
        result = check_resident_id(text, TODAY)
    except IdError as exc:
        assert exc.message and str(exc) == exc.message
        return
    assert passes_gb11643(result.number)
    assert result.birth_date <= TODAY and result.birth_date.year >= 1900
    assert result.gender == ("男" if int(result.number[16]) % 2 else "女")
    # feeding the 18-digit number back gives the same result (it is no longer a conversion)
    assert check_resident_id(result.number, TODAY) == dataclasses.replace(result, converted=False)


SPACES = st.sampled_from(["", " ", "\u3000", "\t", "\xa0", "  "])


@given(valid_numbers(), st.data())
def test_spacing_full_width_and_lower_case_do_not_matter(number, data):
    typed = ""
    for char in number:
        char = data.draw(st.sampled_from([char, full_width(char), char.lower(), full_width(char.lower())]))
        typed += data.draw(SPACES) + char
    typed += data.draw(SPACES)
    assert check_resident_id(typed, TODAY) == check_resident_id(number, TODAY)
    assert check_resident_id(typed, TODAY).number == number


@given(valid_numbers(), st.integers(0, 17), st.sampled_from(DIGITS + "X"))
def test_changing_any_one_character_is_refused(number, position, replacement):
    if number[position] == replacement:
        return
    changed = number[:position] + replacement + number[position + 1:]
    with pytest.raises(IdError):
        check_resident_id(changed, TODAY)


# ---- other documents and mobile numbers -----------------------------------------------------

OTHER = "证件号码只能包含字母、数字、括号和“-”，长度5到32位"


@pytest.mark.parametrize("value,expected", [
    ("E12345678", "E12345678"),
    (" e1234 5678 ", "E12345678"),
    ("ｈ１２３４５６７８", "H12345678"),
    ("C12345(6)", "C12345(6)"),
    ("C12345（6）", "C12345(6)"),  # full-width brackets
    ("830000-1999", "830000-1999"),
    ("A" * 32, "A" * 32),
    ("12345", "12345"),
])
def test_other_documents_accepted(value, expected):
    assert check_other_id(value) == expected


@pytest.mark.parametrize("value,message", [
    (None, "请填写证件号码"),
    ("  ", "请填写证件号码"),
    ("1234", OTHER),
    ("A" * 33, OTHER),
    ("E1234/5678", OTHER),
    ("护照E12345678", OTHER),
    ("E1234_5678", OTHER),
])
def test_other_documents_refused(value, message):
    with pytest.raises(IdError) as exc:
        check_other_id(value)
    assert exc.value.message == message


@pytest.mark.parametrize("value", [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "１３８１２３４５６７８",
    "+86 138 1234 5678",
    "+8613812345678",
    "8613812345678",
    "86-138-1234-5678",
    "\u3000138\xa01234\t5678 ",
])
def test_mobile_accepted(value):
    assert check_mobile(value) == "13812345678"


def test_mobile_starting_with_86_is_not_cut_when_it_has_eleven_digits():
    with pytest.raises(IdError):
        check_mobile("86123456789")


@pytest.mark.parametrize("value,message", [
    (None, "请填写移动电话"),
    ("", "请填写移动电话"),
    (" - ", "请填写移动电话"),
    ("1381234567", MOBILE_MESSAGE),
    ("138123456789", MOBILE_MESSAGE),
    ("12812345678", MOBILE_MESSAGE),
    ("021-12345678", MOBILE_MESSAGE),
    ("+1 415 555 0100", MOBILE_MESSAGE),
    ("+8612812345678", MOBILE_MESSAGE),
    ("1381234567a", MOBILE_MESSAGE),
])
def test_mobile_refused(value, message):
    with pytest.raises(IdError) as exc:
        check_mobile(value)
    assert exc.value.message == message
