"""WTForms classes: field validation only, Chinese messages."""

from flask_wtf import FlaskForm

from models.rules.text import compact, normalize


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]


def choices(pairs) -> list:
    """SelectField options from (value, label) pairs or plain values."""
    from wtforms.fields.choices import SelectChoice
    return [SelectChoice(*p) if isinstance(p, tuple) else SelectChoice(p) for p in pairs]


# Field filters (input normalisation, models/rules/text.py).
def text(value):
    """Free text: full-width letters/digits folded, spaces trimmed and collapsed."""
    return normalize(value) if value is not None else value


def token(value):
    """An account name or the like: half-width, no spaces."""
    return compact(value) if value is not None else value


def code(value):
    """A code (统一社会信用代码, 工会编号, phone): half-width, no spaces, upper case."""
    return compact(value).upper() if value is not None else value
