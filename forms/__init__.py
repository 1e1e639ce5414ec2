"""WTForms classes: field validation only, Chinese messages."""

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]


def choices(pairs) -> list:
    """SelectField options from (value, label) pairs or plain values."""
    from wtforms.fields.choices import SelectChoice
    return [SelectChoice(*p) if isinstance(p, tuple) else SelectChoice(p) for p in pairs]
