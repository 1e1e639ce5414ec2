"""WTForms classes: field validation only, Chinese messages."""

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]
