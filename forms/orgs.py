from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forms import BaseForm
from models.rules.text import compact, normalize
from models.rules.uscc import clean_uscc


def _strip(value):
    return normalize(value) if value is not None else value


def _code(value):
    return compact(value).upper() if value is not None else value


class OrgEditForm(BaseForm):
    """组织管理 → 修改信息."""

    name = StringField("组织名称", filters=[_strip],
                       validators=[DataRequired("请填写组织名称"), Length(max=100, message="组织名称不能超过100个字")])
    uscc = StringField("统一社会信用代码", filters=[_code], validators=[Optional()])
    union_no = StringField("工会编号", filters=[_code], validators=[
        Optional(), Length(max=32, message="工会编号不能超过32位"),
        Regexp(r"^[0-9A-Z-]+$", message="工会编号只能包含数字、字母和“-”")])
    address = StringField("单位地址", filters=[_strip],
                          validators=[Optional(), Length(max=200, message="单位地址不能超过200个字")])
    contact = StringField("联系人", filters=[_strip],
                          validators=[DataRequired("请填写联系人"), Length(max=50, message="联系人不能超过50个字")])
    phone = StringField("联系电话", filters=[_code], validators=[
        DataRequired("请填写联系电话"),
        Regexp(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{8})$",
               message="联系电话格式不正确（手机11位，或固定电话如021-12345678）")])

    def validate_uscc(self, field):
        if field.data:
            try:
                field.data = clean_uscc(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
