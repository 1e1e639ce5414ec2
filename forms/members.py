"""会员信息 forms: 新增会员 / 编辑, 删除, 转出 / 批量转出会员.

The member form only carries and renders the fields (labels, placeholders and defaults of the
manual's 新增会员 screen, seed 001); the rules (身份证 check digit, 15 → 18, birth date and
gender from the number, mobile format, coded values) live in models.members.members.check_identity /
check_record, whose errors the view puts next to each field.
"""

from wtforms import SelectField, SelectMultipleField, StringField, ValidationError, widgets
from wtforms.validators import DataRequired, Length, StopValidation

from forms import BaseForm, choices, text
from models.members import people

DELETE_ONLY = "目前只有退休、犯罪、死亡可以删除会员"  # seed 000


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def coded(label: str, values: list) -> SelectField:
    """A coded field of the form, its first value the manual's default (证件类型 身份证, 工会职务 工会会员)."""
    return SelectField(label, choices=choices(values), default=values[0], validate_choice=False)


def chosen(label: str, values: list) -> SelectField:
    """A coded field the clerk must choose (学历, 户籍类型, 技术等级): it starts at 请选择…, so a
    wrong default is never saved unnoticed. The value itself is checked by check_record."""
    prompt = f"请选择{label}"

    def required(_form, field):  # the server's Chinese message, not the browser's (no `required` flag)
        if not field.data:
            raise StopValidation(prompt)
    return SelectField(label, choices=choices([("", prompt), *values]), default="", validate_choice=False,
                       validators=[required])


class MemberForm(BaseForm):
    """新增会员 / 编辑 (seed 001: every * field required; buttons 提交 / 返回). 性别 and 出生日期
    are required only for documents other than 身份证, whose number gives both (check_identity)."""

    name = StringField("姓名", filters=[text], validators=[Length(max=50, message="姓名不能超过50个字")],
                       render_kw={"placeholder": "请输入姓名"})
    id_type = coded("有效证件类型", people.ID_TYPES)
    id_number = StringField("证件号码", validators=[Length(max=40, message="证件号码过长")],
                            render_kw={"placeholder": "请输入证件号码"})
    gender = SelectField("性别", choices=choices([("", "请选择性别"), "男", "女"]), default="",
                         validate_choice=False)
    birth_date = StringField("出生日期", render_kw={"type": "date", "placeholder": "请选择出生日期"})
    address = StringField("联系地址", filters=[text], validators=[Length(max=200, message="联系地址不能超过200个字")],
                          render_kw={"placeholder": "请输入联系地址"})
    mobile = StringField("移动电话", validators=[Length(max=20, message="移动电话应为11位手机号码")],
                         render_kw={"placeholder": "请输入移动电话"})
    education = chosen("学历", people.EDUCATION)
    household = chosen("户籍类型", people.HOUSEHOLD)
    skill_level = chosen("技术等级", people.SKILL_LEVELS)
    union_post = coded("工会职务", people.UNION_POSTS)
    work_unit = StringField("工作单位/服务平台", filters=[text],
                            validators=[Length(max=100, message="工作单位/服务平台不能超过100个字")])
    tags = CheckboxesField("会员标签", choices=choices(people.MEMBER_TAGS), validate_choice=False)
    id_expiry = StringField("证件到期日", render_kw={"type": "date"})

    IDENTITY_FIELDS = ("name", "id_type", "id_number", "gender", "birth_date", "id_expiry")
    RECORD_FIELDS = ("mobile", "address", "education", "household", "skill_level", "union_post",
                     "work_unit", "tags")

    def identity_values(self) -> dict:
        return {k: getattr(self, k).data or "" for k in self.IDENTITY_FIELDS}

    def record_values(self) -> dict:
        values = {k: getattr(self, k).data or "" for k in self.RECORD_FIELDS}
        values["tags"] = "、".join(self.tags.data or [])
        return values

    def add_errors(self, errors: dict) -> None:
        """Put the model's errors (by field name) next to the fields."""
        for key, message in errors.items():
            getattr(self, key).errors = list(getattr(self, key).errors or []) + [message]


def _one_of(allowed, empty: str, other: str):
    def check(_form, field):
        if not field.data:
            raise ValidationError(empty)
        if field.data not in allowed:
            raise ValidationError(other)
    return check


class DeleteForm(BaseForm):
    """删除: only 退休 / 犯罪 / 死亡 (seed 000)."""

    reason = SelectField("删除原因", choices=choices([("", "请选择删除原因"), *people.DELETE_REASONS]),
                         validate_choice=False,
                         validators=[_one_of(people.DELETE_REASONS, "请选择删除原因", DELETE_ONLY)])


class TransferForm(BaseForm):
    """转出 / 批量转出会员: the destination by name or 工会编号, and the reason (seed 001)."""

    destination = StringField("转入工会", filters=[text], validators=[
        DataRequired("请填写转入工会的名称或工会编号"), Length(max=100, message="转入工会不能超过100个字")],
        render_kw={"placeholder": "工会名称或工会编号"})
    reason = SelectField("转移原因", choices=choices([("", "请选择转移原因"), *people.TRANSFER_REASONS]),
                         validate_choice=False,
                         validators=[_one_of(people.TRANSFER_REASONS, "请选择转移原因",
                                             "转移原因只能是：" + "、".join(people.TRANSFER_REASONS))])
