"""The text fields of the mutual-aid line's forms (参保编码申请, 经办人, 企业注册, 账号找回申请), checked one way.

`text_fields` normalises each field of a {name: (label, size)} table and names every empty
required one (请填写…) and every one too long (…不能超过N个字); `check_uscc` and `check_mobile`
add the 统一社会信用代码 and 手机号码 checks to the same errors dict. The caller raises FieldErrors.
"""

from models.rules.idnumber import IdError
from models.rules.idnumber import check_mobile as clean_mobile
from models.rules.text import compact, normalize
from models.rules.uscc import clean_uscc


def check_sizes(values: dict, fields: dict, required, errors: dict) -> None:
    for name, (label, size) in fields.items():
        if not values[name] and name in required:
            errors[name] = f"请填写{label}"
        elif len(values[name]) > size:
            errors[name] = f"{label}不能超过{size}个字"


def text_fields(form: dict, fields: dict, required, compacted=()) -> tuple[dict, dict]:
    """(values, errors): each field normalised (those in `compacted` without spaces too)."""
    values = {name: (compact if name in compacted else normalize)(normalize(form.get(name))) for name in fields}
    errors: dict = {}
    check_sizes(values, fields, required, errors)
    return values, errors


def check_uscc(values: dict, errors: dict, name: str = "uscc") -> None:
    if values[name] and name not in errors:
        try:
            values[name] = clean_uscc(values[name])
        except ValueError as exc:
            errors[name] = str(exc)


def check_mobile(values: dict, errors: dict, name: str, label: str) -> None:
    if values[name] and name not in errors:
        try:
            values[name] = clean_mobile(values[name])
        except IdError as exc:
            errors[name] = f"{label}：{exc.message}"
