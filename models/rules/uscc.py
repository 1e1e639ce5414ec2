"""统一社会信用代码 (GB 32100-2015): 18 characters with a check character."""

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError

from models.rules.text import compact


def clean_uscc(value) -> str:
    """Return the normalised code or raise ValueError with a Chinese reason."""
    code = compact(value).upper()
    if len(code) != 18:
        raise ValueError("统一社会信用代码应为18位")
    try:
        return _uscc.validate(code)
    except ValidationError as exc:
        if "checksum" in type(exc).__name__.lower() or "checksum" in str(exc).lower():
            raise ValueError("统一社会信用代码校验位不正确，请核对") from None
        raise ValueError("统一社会信用代码格式不正确（前8位为数字，其余为数字或大写字母，不含I、O、Z、S、V）") from None


def make_uscc(body17: str) -> str:
    """Append the check character to a 17-character body (demo data, tests, benchmark)."""
    return body17 + _uscc.calc_check_digit(body17)
