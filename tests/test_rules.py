"""Pure rules: 统一社会信用代码, normalisation, masking, money formatting."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.fees import yuan
from models.rules.text import compact, mask, mask_text, normalize
from models.rules.uscc import clean_uscc, make_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALID = make_uscc("91310000MA1FL4HX1")


def test_known_code_accepted_and_normalised():
    assert clean_uscc(" " + VALID.lower() + " ") == VALID
    # full-width input from Chinese IMEs is converted to half-width
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VALID)
    assert clean_uscc(full_width) == VALID


@pytest.mark.parametrize("value,message", [
    ("", "统一社会信用代码应为18位"),
    ("12345", "统一社会信用代码应为18位"),
    ("9131000OMA1FL4HX1" + "0", "统一社会信用代码格式不正确（前8位为数字，其余为数字或大写字母，不含I、O、Z、S、V）"),
])
def test_bad_codes_explained(value, message):
    with pytest.raises(ValueError) as exc:
        clean_uscc(value)
    assert str(exc.value) == message


BODY = st.builds(lambda a, b: a + b, st.text(alphabet="0123456789", min_size=8, max_size=8),
                 st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))


@given(BODY)
def test_any_body_with_its_check_digit_is_valid(body):
    assert clean_uscc(make_uscc(body)) == make_uscc(body)


@given(BODY, st.sampled_from(USCC_ALPHABET))
def test_a_wrong_check_digit_is_refused_with_a_chinese_message(body, wrong):
    code = make_uscc(body)
    if wrong == code[-1]:
        return
    with pytest.raises(ValueError) as exc:
        clean_uscc(body + wrong)
    assert "统一社会信用代码" in str(exc.value)


@given(st.text(max_size=40))
def test_random_input_never_leaks_library_exceptions(value):
    try:
        clean_uscc(value)
    except ValueError as exc:
        assert "统一社会信用代码" in str(exc)


def test_masking():
    assert mask("341182199001016755") == "3411 **** 6755"
    assert mask("6231000012340640") == "6231 **** 0640"
    assert mask("") == ""
    assert "199001" not in mask("341182199001016755")


def test_normalize():
    assert normalize("  上海　 市 ") == "上海 市"
    assert normalize("上海ＡＢＣ１２３（集团）有限公司，二号") == "上海ABC123（集团）有限公司，二号"
    assert compact("ＡＢ 12") == "AB12"
    assert compact("ＨＰ－００１") == "HP-001"


@pytest.mark.parametrize("fen,text", [(80600, "806"), (650, "6.5"), (1305, "13.05"), (0, "0"), (-2600, "-26")])
def test_yuan(fen, text):
    assert yuan(fen) == text


def test_numbers_inside_free_text_are_masked():
    text = "导入第 3 行 310101199001011234 与 11010519491231002x 重复；卡号 6222021234567890123；日期 20261122123456"
    assert mask_text(text) == ("导入第 3 行 3101 **** 1234 与 1101 **** 002x 重复；"
                               "卡号 6222 **** 0123；日期 20261122123456")
