"""会员服务卡: the checks of a 待办会员 row and the bank card number — pure code, no database.

`check_application(...)` returns the reasons a member cannot be submitted for a card (empty when
the row passes). The manual's check (seed 003) is the ID expiry date: present, in the future and
as on the ID card ("确保系统上和用户证件上的证件到期日一致"). A resident ID card is valid 5, 10 or 20
years, or 长期 from age 46, so for a 身份证 a date more than 20 years ahead, or 长期 for someone
younger than 46, cannot be what the card says. Our additions: 工作单位/服务平台 of more than 6 and
fewer than 20 Chinese characters (seed 003: "工作单位详细地址请填写超过6个汉字且少于20个汉字"), a mobile
number no other applicant uses, a valid ID number.

Card numbers are bank card numbers: 16–19 digits with a Luhn check digit (python-stdnum).
"""

import re
from dataclasses import dataclass
from datetime import date

from models.rules.idnumber import IdError, check_resident_id, normalize_id
from models.rules.text import parse_day

LONG_TERM = date(9999, 12, 31)  # 证件到期日 长期
LONG_TERM_LABEL = "长期"
LONG_TERM_AGE = 46
MAX_VALIDITY_YEARS = 20
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORK_UNIT_MIN, WORK_UNIT_MAX = 6, 20  # more than 6, fewer than 20
CARD_NO = re.compile(r"[0-9]{16,19}")

# 信息校验结果
UNCHECKED, PASSED, FAILED = "未校验", "已通过", "未通过"
CHECK_STATES = [PASSED, FAILED, UNCHECKED]

# The member's 用户状态 that may apply for a card (models/members/people.NORMAL; the rules stay pure).
MEMBER_NORMAL = "正常"


@dataclass
class Applicant:
    """What the checks look at, copied from the person and the member record."""
    name: str
    id_type: str
    id_number: str
    birth_date: date | None
    id_expiry: date | None
    work_unit: str
    mobile: str
    member_status: str = "正常"


def han_count(text: str) -> int:
    return len(HAN.findall(text or ""))


def work_unit_reason(text: str) -> str | None:
    n = han_count(text)
    if not (text or "").strip():
        return "工作单位/服务平台未填写（办理会员服务卡须填写工作单位详细地址）"
    if n <= WORK_UNIT_MIN or n >= WORK_UNIT_MAX:
        return f"工作单位/服务平台须超过{WORK_UNIT_MIN}个汉字且少于{WORK_UNIT_MAX}个汉字（现为{n}个汉字）"
    return None


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb
        return day.replace(year=day.year + years, day=28)


def expiry_reason(a: Applicant, on: date) -> str | None:
    if a.id_expiry is None:
        return "证件到期日未填写，请核对证件后点击「修改证件到期日」填写"
    if a.id_expiry == LONG_TERM:
        if a.id_type == "身份证" and a.birth_date and age_on(a.birth_date, on) < LONG_TERM_AGE:
            return f"证件到期日为长期，但持证人未满{LONG_TERM_AGE}周岁，与身份证有效期不符，请核对证件"
        return None
    if a.id_expiry <= on:
        return f"证件已过期或今日到期（证件到期日 {a.id_expiry.isoformat()}），请核对证件后修改证件到期日"
    if a.id_type == "身份证" and a.id_expiry > add_years(on, MAX_VALIDITY_YEARS):
        return (f"证件到期日 {a.id_expiry.isoformat()} 超出身份证最长有效期（{MAX_VALIDITY_YEARS}年），"
                "请核对证件上的证件到期日")
    return None


def id_reason(a: Applicant, on: date) -> str | None:
    if a.id_type != "身份证":
        return None if a.id_number else "证件号码未填写"
    try:
        check_resident_id(a.id_number, on)
    except IdError as exc:
        return f"证件号码无效：{exc}"
    return None


def check_application(a: Applicant, on: date, mobile_taken_by: str | None = None) -> list[str]:
    """Every reason this applicant cannot be submitted for a card ([] = 已通过).
    `mobile_taken_by`: who else applies with the same mobile ("本单位办卡会员（姓名）", or
    "其他工会的办卡人员" — never another union's member by name), if anyone."""
    reasons = []
    if a.member_status != MEMBER_NORMAL:
        reasons.append(f"用户状态为「{a.member_status}」，只有正常会员可以办卡")
    for reason in (id_reason(a, on), expiry_reason(a, on), work_unit_reason(a.work_unit)):
        if reason:
            reasons.append(reason)
    if not a.mobile:
        reasons.append("移动电话未填写")
    elif mobile_taken_by:
        reasons.append(f"移动电话与{mobile_taken_by}重复，手机号码不要重复")
    return reasons


def parse_expiry(raw) -> date:
    """The 修改证件到期日 input: YYYY-MM-DD (also YYYY/MM/DD, YYYYMMDD) or 长期."""
    text = normalize_id(raw).replace("/", "-").replace(".", "-")
    if not text:
        raise ValueError("请填写证件到期日（年-月-日，或“长期”）")
    if text == LONG_TERM_LABEL:
        return LONG_TERM
    day = parse_day(text)
    if day is None:
        raise ValueError("证件到期日格式应为 年-月-日（如 2033-01-01），长期有效的填写“长期”")
    return day


def show_expiry(day: date | None) -> str:
    if day is None:
        return "-"
    return LONG_TERM_LABEL if day == LONG_TERM else day.isoformat()


def clean_card_no(raw) -> str:
    """A bank card number from the return file: digits only (spaces allowed), 16–19 digits,
    Luhn check digit right. Raises ValueError with a Chinese reason."""
    if type(raw) is str and raw.isascii() and raw.isdigit():  # the common cell: nothing to drop or convert
        text = raw
    else:
        text = re.sub(r"[\s-]", "", normalize_id(raw))
    if not text:
        raise ValueError("卡号未填写")
    if not CARD_NO.fullmatch(text):
        raise ValueError("卡号应为16至19位数字")
    if not luhn_ok(text):
        raise ValueError("卡号校验位不正确（Luhn校验未通过）")
    return text


_DOUBLED = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))  # ASCII d → digit sum of 2 × d


def luhn_ok(digits: str) -> bool:
    """The Luhn check (ISO/IEC 7812) of a string of ASCII digits — what python-stdnum's
    luhn.validate checks, without a call per digit: the digits from the right, every second one
    doubled (its digit sum), add up to a multiple of ten (byte sums, in C)."""
    data = digits.encode()
    kept = data[-1::-2]
    return (sum(kept) - 48 * len(kept) + sum(data[-2::-2].translate(_DOUBLED))) % 10 == 0
