"""信息变更申请 → 一般信息变更 of the 经办人手机 in a real browser, JavaScript on and off (ma-integrate):
a new mobile is refused without its SMS code, then 获取验证码 (the code read from the outbox) → 提交变更."""

from playwright.sync_api import expect

from models import sms
from models.mutual_aid import handler_ops
from tests.browser.helpers import log_in
from tests.factories.mutual_aid import approved_code, outbox_code


def test_a_new_handler_mobile_with_its_sms_code(app, page, city, js):
    code = approved_code(city, 1)
    log_in(page, code.account)
    page.goto("/mutual-aid/changes/")
    page.get_by_label("经办人手机").fill("13911115656")
    page.get_by_role("button", name="提交变更").click()
    expect(page.locator("#g-sms_code-error")).to_contain_text("获取验证码")
    assert handler_ops.handler_of(code).mobile == "13800000001"
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-notice")).to_have_text("验证码已发送至139****5656，5分钟内有效")
    page.get_by_label("短信验证码").fill(outbox_code(app, "13911115656"))
    page.get_by_role("button", name="提交变更").click()
    expect(page.locator("#current-handler")).to_contain_text("13911115656")
    assert handler_ops.handler_of(code).mobile == "13911115656"


def test_enter_in_a_field_submits_the_change_not_another_sms_code(app, page, city, js):
    """Enter presses the form's first submit button: it must be 提交变更, never 获取验证码 (which
    would send another code and start its 60-second throttle)."""
    code = approved_code(city, 2)
    log_in(page, code.account)
    page.goto("/mutual-aid/changes/")
    page.get_by_label("经办人手机").fill("13911117878")
    page.get_by_label("经办人手机").press("Enter")
    expect(page.locator("#g-sms_code-error")).to_contain_text("获取验证码")  # refused as 提交变更, no code sent
    with app.app_context():
        assert sms.outbox_codes("13911117878") == []
