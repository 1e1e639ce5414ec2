from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forms import BaseForm, choices, code, text
from models.rules.text import PHONE_MESSAGE, PHONE_PATTERN
from models.rules.uscc import clean_uscc


class OrgEditForm(BaseForm):
    """组织管理 → 修改信息."""

    name = StringField("组织名称", filters=[text],
                       validators=[DataRequired("请填写组织名称"), Length(max=100, message="组织名称不能超过100个字")])
    uscc = StringField("统一社会信用代码", filters=[code], validators=[Optional()])
    union_no = StringField("工会编号", filters=[code], validators=[
        Optional(), Length(max=32, message="工会编号不能超过32位"),
        Regexp(r"^[0-9A-Z-]+$", message="工会编号只能包含数字、字母和“-”")])
    address = StringField("单位地址", filters=[text],
                          validators=[Optional(), Length(max=200, message="单位地址不能超过200个字")])
    contact = StringField("联系人", filters=[text],
                          validators=[DataRequired("请填写联系人"), Length(max=50, message="联系人不能超过50个字")])
    phone = StringField("联系电话", filters=[code], validators=[
        DataRequired("请填写联系电话"),
        Regexp(PHONE_PATTERN, message=PHONE_MESSAGE)])

    def validate_uscc(self, field):
        if field.data:
            try:
                field.data = clean_uscc(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class OrgForm(OrgEditForm):
    """新增下级组织 / 修改 (an organisation below the account's own)."""

    type = SelectField("工会类型", validators=[DataRequired("请选择工会类型")])
    level = SelectField("层级", choices=choices([("", "按工会类型"), ("secondary", "二级工会"),
                                                ("grassroots", "基层工会")]), validate_choice=False)

    def validate_level(self, field):
        if self.type.data == "联合工会" and field.data not in ("secondary", "grassroots"):
            raise ValidationError("联合工会须选择层级：二级工会（下面还有基层工会）或 基层工会（直接覆盖企业）")


class MoveForm(BaseForm):
    target = StringField("新上级组织", filters=[text], validators=[
        DataRequired("请填写新上级组织的名称、统一社会信用代码或工会编号")])


class ReasonForm(BaseForm):
    reason = TextAreaField("原因", filters=[text], validators=[
        DataRequired("请填写原因"), Length(max=500, message="原因不能超过500个字")])


class EnterpriseForm(BaseForm):
    """覆盖企业 新增 / 修改 (checked by models.orgs.enterprises.check, which names the fields)."""

    name = StringField("企业名称", filters=[text])
    uscc = StringField("统一社会信用代码", filters=[code])


class OrgCreateForm(OrgForm):
    """新增下级组织, offering the new union's first 覆盖企业 (optional; a grassroots union only)."""

    enterprise_name = StringField("覆盖企业名称", filters=[text])
    enterprise_uscc = StringField("覆盖企业统一社会信用代码", filters=[code])
