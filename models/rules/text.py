"""Input normalisation and masking of personal numbers."""

import functools
import re
import unicodedata
from datetime import datetime, time

_SPACES = re.compile(r"\s+")


# Full-width digits and Latin letters (and the ideographic space) → half-width. Chinese
# punctuation （），、： stays as typed: it belongs in names like 上海某某（集团）有限公司.
_WIDE = {**{cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
            for cp in range(r[0], r[1] + 1)}, 0x3000: 0x20}


# Text that normalize() would change beyond strip(): a full-width form, or whitespace other than
# single spaces. Most cells of an import have none: one search instead of translate + sub. The
# whitespace is listed (every character of \s but the space — all below U+3001 — and two spaces):
# one character class is searched 2.5 × faster than `\s\s|[^\S ]` (an import's joined columns).
_OTHER_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != " ")
_NOT_PLAIN = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a" + re.escape(_OTHER_SPACES) + "]|  ")


def normalize(value) -> str:
    """Full-width letters and digits → half-width, trim, collapse inner spaces (free text)."""
    if value is None:
        return ""
    text = str(value)
    if _NOT_PLAIN.search(text) is None:  # the common case (imports call this 300,000 times)
        return text.strip()
    return _SPACES.sub(" ", text.translate(_WIDE)).strip()


def compact(value) -> str:
    """Every full-width form → half-width (NFKC) and no spaces — for codes and numbers."""
    if type(value) is str and value.isascii() and value.isalnum():  # most cells: nothing to convert or drop
        return value
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value) if value is not None else ""))


INT_MAX = 2 ** 63 - 1  # the largest integer both databases store (SQLite INTEGER, PostgreSQL bigint)
_INT = re.compile(r"-?[0-9]{1,19}")


def bounded_int(value, low: int = 0, high: int = INT_MAX) -> int | None:
    """A whole number typed in a URL, a form or a file (ASCII digits, a leading minus sign,
    surrounding spaces) within [low, high]; None for anything else — never an exception and
    never a number a database column cannot hold."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not _INT.fullmatch(text):
            return None
        number = int(text)
    return number if low <= number <= high else None


_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_day(value):
    """A date typed or imported as 2033-01-01, 2033/1/1, 2033.1.1 or 20330101 (full-width
    digits too); None when it is not one (the caller words the message for its field). Once per
    distinct text (an import's 50,000 rows hold a few hundred dates)."""
    return _day_of_text(value if type(value) is str else str(value) if value is not None else "")


@functools.lru_cache(maxsize=4096)
def _day_of_text(value: str):
    from datetime import date
    text = compact(value).replace("/", "-").replace(".", "-")
    if re.fullmatch(r"[0-9]{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DAY.fullmatch(text)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def mask(number: str | None) -> str:
    """Mask a personal or card number for lists and logs: '3411 **** 6755'."""
    if not number:
        return ""
    number = str(number)
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    if len(number) < 15:  # passports, permits: never more than a third shown
        return f"{number[:2]} **** {number[-2:]}"
    return f"{number[:4]} **** {number[-4:]}"


def mask_name(name: str | None) -> str:
    """A person's name on a query result: the surname stays, the rest is starred — 张* / 张*丰 /
    欧**锋 (the last character of a name of three or more stays too)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ID numbers (15/18 digits, 18 may end in X) and bank card numbers (16–19 digits) in free text.
_LONG_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[Xx]|\d{15,19})(?!\d)")


def mask_text(text: str) -> str:
    """Mask every personal or card number inside a free text (log lines, error messages)."""
    return _LONG_NUMBER.sub(lambda m: mask(m.group(0)), text)


def install_log_masking() -> None:
    """Every log record (message and traceback) is masked when it is created, whichever
    handler writes it later: no full personal number reaches a log file."""
    import logging
    import traceback

    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_numbers", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string is logging's business
            return record
        record.msg, record.args = mask_text(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = mask_text(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    factory.masks_numbers = True
    logging.setLogRecordFactory(factory)


# 联系电话: a mobile number, or a landline like 021-12345678 (extension allowed), or 8 digits.
PHONE_PATTERN = r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{8})$"
PHONE_MESSAGE = "联系电话格式不正确（手机11位，或固定电话如021-12345678）"


def parse_moment(text: str, end: bool) -> datetime:
    """A moment typed as 年-月-日 时:分 (or 年-月-日 alone: the day's first second, or its last
    when `end`); raises ValueError for anything else."""
    text = normalize(text).replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            return datetime.combine(moment.date(), time(23, 59, 59) if end else time())
        return moment.replace(second=59) if end else moment
    raise ValueError
