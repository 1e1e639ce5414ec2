from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from forms import BaseForm
from models.orgs.accounts import MAX_PASSWORD


class LoginForm(BaseForm):
    username = StringField("账号", validators=[DataRequired("请输入账号"), Length(max=50)])
    password = PasswordField("密码", validators=[
        DataRequired("请输入密码"), Length(max=MAX_PASSWORD, message=f"密码不能超过{MAX_PASSWORD}位")])
    captcha = StringField("验证码", validators=[Length(max=10)])


class ChangePasswordForm(BaseForm):
    old_password = PasswordField("原密码", validators=[
        DataRequired("请输入原密码"), Length(max=MAX_PASSWORD, message=f"原密码不能超过{MAX_PASSWORD}位")])
    new_password = PasswordField("新密码", validators=[
        DataRequired("请输入新密码"), Length(max=MAX_PASSWORD, message=f"新密码不能超过{MAX_PASSWORD}位")])
    confirm = PasswordField("确认新密码", validators=[
        DataRequired("请再次输入新密码"), EqualTo("new_password", "两次输入的新密码不一致")])
