from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms import BaseForm, text, token


class AccountForm(BaseForm):
    """新增账号."""

    username = StringField("账号", filters=[token], validators=[
        DataRequired("请填写账号"), Length(min=3, max=50, message="账号为3至50位"),
        Regexp(r"^[A-Za-z0-9_.@-]+$", message="账号只能包含字母、数字和 _ . @ -")])
    display_name = StringField("姓名", filters=[text],
                               validators=[Optional(), Length(max=50, message="姓名不能超过50个字")])


class FixForm(BaseForm):
    """An admin quick fix: which account, and why (audited)."""

    username = StringField("账号", filters=[token],
                           validators=[DataRequired("请填写账号")])
    reason = TextAreaField("原因", filters=[text], validators=[
        DataRequired("请填写原因（记入操作日志）"), Length(max=500, message="原因不能超过500个字")])
