from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from forms import BaseForm, code, text, token


def email_address(value):
    """An e-mail address: half-width, no spaces, lower case (never the upper case of `code`, which
    the form also applies to the value it is pre-filled with)."""
    return token(value).lower() if value is not None else value


class HandlerForm(BaseForm):
    """提交参保批次确认: 请填写当前批次经办人信息."""

    name = StringField("姓名", filters=[text],
                       validators=[DataRequired("请填写经办人姓名"), Length(max=50, message="姓名不能超过50个字")])
    mobile = StringField("手机号", filters=[code], validators=[
        DataRequired("请填写手机号"), Regexp(r"^1[3-9]\d{9}$", message="手机号应为11位手机号码")])
    email = StringField("电子邮箱", filters=[email_address], validators=[
        DataRequired("请填写电子邮箱"), Length(max=100, message="电子邮箱不能超过100个字符"),
        Regexp(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", message="电子邮箱格式不正确")])


class ReasonForm(BaseForm):
    reason = TextAreaField("原因", filters=[text], validators=[
        DataRequired("请填写原因"), Length(max=500, message="原因不能超过500个字")])
