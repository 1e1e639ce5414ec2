"""Identity document numbers and mobile numbers: normalisation and checks.

Everything typed in is first normalised by `normalize_id`: all whitespace goes (also the
full-width space U+3000, tabs and no-break spaces, wherever they are), NFKC turns full-width
digits and letters from Chinese input methods into half-width ones, and letters are upper-cased.

居民身份证 (GB 11643-1999), `check_resident_id`:
  * 18 characters: 6-digit region code, birth date YYYYMMDD, 3-digit sequence (odd for men,
    even for women), check character 0–9 or X over the first 17 digits (ISO 7064 MOD 11-2).
  * Old 15-digit numbers (region, YYMMDD, sequence) were all issued to people born in the
    1900s; they are converted by inserting "19" before the year and appending the check digit.
  * Refused: empty, wrong length or characters, region code starting with 0, a birth date that
    does not exist or is before 1900, a birth date after today, a wrong check character.

Other documents (passport, 港澳/台湾 travel permits …), `check_other_id`: 5–32 characters of
A–Z, 0–9, parentheses and "-"; no check digit is known for them.

Mobile numbers, `check_mobile`: spaces and "-" are dropped, as is a leading +86/86 country
code; what is left must be a mainland mobile number 1[3-9]xxxxxxxxx.

Every refusal is an `IdError` (a ValueError) carrying a Chinese message for the operator.
"""

import operator
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Unicode whitespace (covers U+3000, NBSP, tabs) plus zero-width characters pasted from documents.
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# [0-9] rather than \d: \d would also accept Arabic-Indic and other non-ASCII digits.
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
_OTHER = re.compile(r"[A-Z0-9()\-]{5,32}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_86 = re.compile(r"\+?86([0-9]{11})")

EMPTY_MESSAGE = "请填写证件号码"
LENGTH_MESSAGE = "身份证号码应为18位（15位老号码会自动转换为18位）"
REGION_MESSAGE = "身份证号码前6位地区码不正确"
BIRTH_MESSAGE = "身份证号码中的出生日期不正确"
FUTURE_MESSAGE = "出生日期不能晚于今天"
CHECK_MESSAGE = "身份证号码校验位不正确，请核对"
OTHER_MESSAGE = "证件号码只能包含字母、数字、括号和“-”，长度5到32位"
MOBILE_EMPTY_MESSAGE = "请填写移动电话"
MOBILE_MESSAGE = "移动电话应为11位手机号码"

# GB 11643 weights 2^(17-i) mod 11 and the check character for each remainder of the sum.
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK_CHARS = "10X98765432"  # by the weighted sum mod 11


class IdError(ValueError):
    """A refused number; `.message` (and str(e)) is the Chinese text for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 characters, the last may be 'X'
    birth_date: date
    gender: str  # "男" / "女"
    converted: bool  # True when a 15-digit old number was converted to 18


def normalize_id(raw) -> str:
    """No whitespace anywhere, full-width → half-width, upper case. Never raises."""
    if raw is None:
        return ""
    text = str(raw)
    if text.isascii() and text.isalnum():  # the common case: nothing to drop or convert
        return text.upper()
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).upper()


def check_digit(body17: str) -> str:
    """The GB 11643 check character for 17 ASCII digits."""
    if len(body17) != 17:
        raise ValueError("check_digit needs 17 digits")
    return _CHECK_CHARS[sum(map(operator.mul, map(int, body17), _WEIGHTS)) % 11]


def digits_check_char(body17: str) -> str:
    """check_digit() of 17 characters already matched as ASCII digits, in one int() done in C —
    what every 身份证 cell of an import costs: GB 11643 weighs digit i by 2^(17-i) mod 11, and
    13 ≡ 2 (mod 11), so the weighted sum is 2 × the 17 digits read in base 13 (mod 11)."""
    return _CHECK_CHARS[2 * int(body17, 13) % 11]


def check_resident_id(raw, today: date) -> ResidentId:
    number = normalize_id(raw)
    if not number:
        raise IdError(EMPTY_MESSAGE)
    converted = False
    if _ID15.fullmatch(number):
        body = number[:6] + "19" + number[6:]
        number = body + check_digit(body)
        converted = True
    if not _ID18.fullmatch(number):
        raise IdError(LENGTH_MESSAGE)
    if number[0] == "0":
        raise IdError(REGION_MESSAGE)
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdError(BIRTH_MESSAGE) from None
    if birth.year < 1900:
        raise IdError(BIRTH_MESSAGE)
    if birth > today:
        raise IdError(FUTURE_MESSAGE)
    if number[17] != digits_check_char(number[:17]):  # 17 digits: matched by _ID18 above
        raise IdError(CHECK_MESSAGE)
    gender = "男" if int(number[16]) % 2 else "女"
    return ResidentId(number=number, birth_date=birth, gender=gender, converted=converted)


def check_other_id(raw) -> str:
    number = normalize_id(raw)
    if not number:
        raise IdError(EMPTY_MESSAGE)
    if not _OTHER.fullmatch(number):
        raise IdError(OTHER_MESSAGE)
    return number


def gender_mismatch_message(expected: str, entered: str) -> str:
    return f"性别与身份证号码不符：按身份证号码应为{expected}"


def birth_mismatch_message(expected: date) -> str:
    return f"出生日期与身份证号码不符：按身份证号码应为{expected:%Y-%m-%d}"


def check_mobile(raw) -> str:
    """Return the 11-digit mobile number or raise IdError."""
    number = normalize_id(raw).replace("-", "")
    if not number:
        raise IdError(MOBILE_EMPTY_MESSAGE)
    country = _MOBILE_86.fullmatch(number)
    if country:
        number = country.group(1)
    if not _MOBILE.fullmatch(number):
        raise IdError(MOBILE_MESSAGE)
    return number
