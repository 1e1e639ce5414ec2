"""A mutual-aid roster person's fields (清册人员, spec 70, seed 004): pure checks, no database.

A 居民身份证 gives 出生日期 and 性别 by itself (what was typed must agree); any other document
needs both typed (seed 004: "证件类型为非身份证的…出生日期和性别栏为必填项"). 是否有社保 = 是 makes
the person 在职 (seed 004 FAQ: "导入模板最后一栏：是否有社保，选择【是】即可"); otherwise the
职退状态 stays "-" until the 建议清册 or the operator (设置在职) says more.
"""

from dataclasses import dataclass
from datetime import date

from models.rules.idnumber import (
    IdError,
    birth_mismatch_message,
    check_other_id,
    check_resident_id,
    gender_mismatch_message,
)
from models.rules.text import normalize

RESIDENT_ID = "居民身份证"
GENDERS = ("男", "女")


class PersonError(ValueError):
    """A refused field: `field` (its Chinese name) and `message`."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}：{message}")
        self.field = field
        self.message = f"{field}：{message}"


@dataclass(frozen=True)
class AidPerson:
    id_type: str
    id_number: str
    name: str
    gender: str
    birth_date: date
    has_social_insurance: bool
    employment: str  # 在职 / -


def clean_person(id_type: str, id_number, name, gender=None, birth_date: date | None = None,
                 has_social_insurance: bool = False, *, id_types: tuple, today: date) -> AidPerson:
    id_type = normalize(id_type) or RESIDENT_ID
    if id_type not in id_types:
        raise PersonError("证件类型", f"「{id_type}」不是可选的证件类型")
    name = normalize(name)
    if not name:
        raise PersonError("姓名", "请填写姓名")
    if len(name) > 50:
        raise PersonError("姓名", "不能超过50个字")
    gender = normalize(gender)
    if gender and gender not in GENDERS:
        raise PersonError("性别", "只能是“男”或“女”")
    try:
        if id_type == RESIDENT_ID:
            resident = check_resident_id(id_number, today)
            if gender and gender != resident.gender:
                raise PersonError("性别", gender_mismatch_message(resident.gender, gender))
            if birth_date and birth_date != resident.birth_date:
                raise PersonError("出生日期", birth_mismatch_message(resident.birth_date))
            number, gender, birth_date = resident.number, resident.gender, resident.birth_date
        else:
            number = check_other_id(id_number)
            if not birth_date:
                raise PersonError("出生日期", "证件类型为非身份证的，出生日期为必填项")
            if not gender:
                raise PersonError("性别", "证件类型为非身份证的，性别为必填项")
            if birth_date > today:
                raise PersonError("出生日期", "出生日期不能晚于今天")
    except IdError as exc:
        raise PersonError("证件号码", exc.message) from None
    return AidPerson(id_type, number, name, gender, birth_date, bool(has_social_insurance),
                     "在职" if has_social_insurance else "-")
