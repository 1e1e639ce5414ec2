"""Input normalisation and masking of personal numbers."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize(value) -> str:
    """Full-width → half-width (NFKC), trim, collapse inner spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def compact(value) -> str:
    """normalize() and drop every space — for codes and numbers."""
    return normalize(value).replace(" ", "")


def mask(number: str | None) -> str:
    """Mask a personal or card number for lists and logs: '3411 **** 6755'."""
    if not number:
        return ""
    number = str(number)
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return f"{number[:4]} **** {number[-4:]}"
