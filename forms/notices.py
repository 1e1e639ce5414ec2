from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from forms import BaseForm, choices, text

CATEGORIES = ["操作说明", "模板", "其他"]


class NoticeForm(BaseForm):
    """发布通知 / 修改通知."""

    title = StringField("标题", filters=[text], validators=[
        DataRequired("请填写标题"), Length(max=200, message="标题不能超过200个字")])
    body = TextAreaField("内容", validators=[DataRequired("请填写内容"),
                                           Length(max=20000, message="内容不能超过20000个字")])
    pinned = BooleanField("置顶")


class DownloadForm(BaseForm):
    """下载中心 → 上传文件."""

    title = StringField("名称", filters=[text], validators=[
        DataRequired("请填写名称"), Length(max=200, message="名称不能超过200个字")])
    description = StringField("说明", filters=[text], validators=[Length(max=500, message="说明不能超过500个字")])
    category = SelectField("类别", choices=choices(CATEGORIES))
