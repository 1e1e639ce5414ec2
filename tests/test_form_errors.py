"""Refused forms a screen reader and a keyboard can fix (issue 20 item 4): every form that shows field
errors does it through the shared macros (partials/_macros.html) — the alert lists each refused field
as a link to its control (#id, so without JavaScript the user jumps to it; static/app.js focuses the
first one), each refused control is aria-invalid and names its message (and its hint) in
aria-describedby, and every field marked * is required in code."""

import io
import re
from pathlib import Path

import pytest

from models.enroll import plans
from models.mutual_aid import years
from models.mutual_aid.batches import TO_CHECK
from models.mutual_aid.vouchers import AidReceiptSet
from tests import factories
from tests.factories.aid_money import payable_batch, uploaded_voucher
from tests.factories.members import new_member
from tests.factories.mutual_aid import approved_code, batch_in
from tests.helpers import soup

PARTIALS = Path(__file__).resolve().parent.parent / "partials"
MULTIPART = "multipart/form-data"


def client_of(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


# Each case: (app, city, as_role) → (client, url, form data, content type); the post is refused.
CASES = {
    "企业注册": lambda app, city, as_role: (app.test_client(), "/register", {"action": "register"}, None),
    "账号找回申请": lambda app, city, as_role: (app.test_client(), "/account-recovery/", {}, MULTIPART),
    "修改密码": lambda app, city, as_role: (as_role("district"), "/password", {"old_password": "x"}, None),
    "新增会员": lambda app, city, as_role: (as_role("grassroots"), "/members/new", {}, None),
    "会员转出": lambda app, city, as_role: (
        as_role("grassroots"), f"/members/{new_member(city, '转出甲').id}/transfer", {}, None),
    "删除会员": lambda app, city, as_role: (
        as_role("grassroots"), f"/members/{new_member(city, '删除甲').id}/delete", {"submitted": "1"}, None),
    "导入会员": lambda app, city, as_role: (as_role("grassroots"), "/members/import", {}, MULTIPART),
    "修改本工会信息": lambda app, city, as_role: (as_role("grassroots"), "/orgs/mine/edit", {"name": ""}, None),
    "新建下级组织": lambda app, city, as_role: (
        as_role("district"), f"/orgs/{city.account('district').org_id}/new", {}, None),
    "发布通知": lambda app, city, as_role: (as_role("centre"), "/notices/new", {"title": "", "body": ""}, None),
    "下载中心上传文件": lambda app, city, as_role: (as_role("centre"), "/downloads/new", {"title": ""}, MULTIPART),
    "下载中心上传文件（文件）": lambda app, city, as_role: (
        as_role("centre"), "/downloads/new", {"title": "操作手册", "category": "操作说明"}, MULTIPART),
    "更正会员证件信息": lambda app, city, as_role: _member_fix(city, as_role),
    "登记给付": lambda app, city, as_role: (as_role("centre"), "/coverage/claims/new", {"amount": "abc"}, None),
    "给付信息导入": lambda app, city, as_role: (as_role("centre"), "/coverage/claims/import", {}, MULTIPART),
    "保障类型": lambda app, city, as_role: (
        as_role("centre"), f"/plans/years/{plans.create_year(2027).id}/types/new", {"fee": "abc"}, None),
    "新建保障年度（会员专享）": lambda app, city, as_role: (as_role("centre"), "/plans/years", {"year": "abc"}, None),
    "新建保障年度（互助保障）": lambda app, city, as_role: (
        as_role("centre"), "/mutual-aid/years", {"year": "abc"}, None),
    "互助保障收款账户": lambda app, city, as_role: _aid_year(
        as_role, {"section": "account", "account_name": "", "account_no": "", "bank": ""}),
    "互助保障时间窗口": lambda app, city, as_role: _aid_year(as_role, {"section": "windows", "central_starts": "明天"}),
    "互助保障项目价格": lambda app, city, as_role: _aid_year(as_role, {"section": "prices", "A0_full": "x"}),
    "开卡回盘导入": lambda app, city, as_role: (as_role("centre"), "/cards/returns", {}, MULTIPART),
    "参保名单上传": lambda app, city, as_role: _roster_upload(app, city),
    "申请参保编码": lambda app, city, as_role: (
        as_role("grassroots"), "/mutual-aid/codes/new", {"action": "submit"}, MULTIPART),
    "参保单位（集团下属单位）": lambda app, city, as_role: (
        as_role("centre"), f"/mutual-aid/codes/{approved_code(city, 1).id}/units", {"name": "", "uscc": "123"}, None),
    "经办人填报": lambda app, city, as_role: (
        client_of(app, approved_code(city, 1, handler=False).account), "/mutual-aid/handler/",
        {"action": "save", "email": "no-at"}, None),
    "一般信息变更": lambda app, city, as_role: (
        client_of(app, approved_code(city, 1).account), "/mutual-aid/changes/general",
        {"email": "no-at", "address": "新址"}, None),
    "单位名称变更": lambda app, city, as_role: (
        client_of(app, approved_code(city, 1).account), "/mutual-aid/changes/name", {"unit_name": ""}, MULTIPART),
    "会员专享时间窗口": lambda app, city, as_role: (
        as_role("centre"), f"/plans/years/{plans.create_year(2027).id}",
        {"section": "windows", **{f"{k}_starts": "明天" for k in plans.WINDOWS}}, None),
    "会员专享给付申请材料截止": lambda app, city, as_role: (
        as_role("centre"), f"/plans/years/{plans.create_year(2027).id}", {"section": "claims", "claims_deadline": "x"},
        None),
    "新增缴费信息": lambda app, city, as_role: _voucher(app, city),
    "新增专用收据": lambda app, city, as_role: _receipt(app, city),
}


def _member_fix(city, as_role):
    person = new_member(city, "更正甲").person
    return (as_role("admin"), "/admin/member-identity",
            {"lookup_type": person.id_type, "lookup_number": person.id_number, "name": "", "id_type": person.id_type,
             "id_number": person.id_number, "birth_date": "明天", "reason": ""}, None)


def _aid_year(as_role, data):
    return as_role("centre"), f"/mutual-aid/years/{years.create_year(2026).id}", data, None


def _roster_upload(app, city):
    code = approved_code(city, 1)
    return client_of(app, code.account), f"/mutual-aid/batches/{batch_in(code, TO_CHECK).id}/upload", {}, MULTIPART


def _voucher(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    return (client_of(app, code.account), "/mutual-aid/vouchers/new",
            {"batch": [str(batch.id)], "save": "1", "paid": "abc"}, MULTIPART)


def _receipt(app, city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 100_00)])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    return client_of(app, code.account), f"/mutual-aid/receipts/{receipts.id}/add", {"title": "", "amount": "abc"}, None


def ids_of(node, attribute="aria-describedby"):
    return (node.get(attribute) or "").split()


@pytest.mark.parametrize("name", CASES)
def test_a_refused_form_links_its_fields_and_ties_each_message(app, city, as_role, name):
    client, url, data, content_type = CASES[name](app, city, as_role)
    kwargs = {"content_type": content_type} if content_type else {}
    if content_type:
        data = {**data, "_": (io.BytesIO(b""), "")}  # a multipart body even without a chosen file
    response = client.post(url, data=data, **kwargs)
    assert response.status_code in (400, 409, 422), (name, response.status_code)
    page = soup(response)
    main = page.select_one("#main") or page
    links = [a for alert in main.select(".alert-error[role=alert]") for a in alert.select('a[href^="#"]')]
    assert links, f"{name}: the alert lists no field"
    linked = []
    for link in links:
        control = page.find(id=link["href"][1:])
        assert control is not None, f"{name}: {link['href']} is no element"
        assert control.get("aria-invalid") == "true", f"{name}: {link['href']} is not marked invalid"
        linked.append(control["id"])
    invalid = main.select('[aria-invalid="true"]')
    assert [c["id"] for c in invalid if c["id"] in linked] == [c["id"] for c in invalid], \
        f"{name}: a refused field missing from the alert"
    # The first link is the first refused field: the one static/app.js focuses.
    assert linked[0] == invalid[0]["id"]
    for control in invalid:
        described = [page.find(id=i) for i in ids_of(control)]
        assert described and None not in described, f"{name}: #{control['id']} names a missing element"
        messages = [d.get_text(" ", strip=True) for d in described
                    if "field-error" in d.get("class", []) or d.get("role") == "alert"]
        assert messages and all(messages), f"{name}: #{control['id']} is tied to no message"
        link = next(a for a in links if a["href"] == f"#{control['id']}")
        assert any(m in link.get_text(strip=True) or link.get_text(strip=True) in m for m in messages), name
    for hint in main.select("p.hint[id]"):
        assert main.select(f'[aria-describedby~="{hint["id"]}"]'), f"{name}: hint #{hint['id']} tied to nothing"
    for label in main.select("label[for]"):
        if label.select_one(".req"):
            control = page.find(id=label["for"])
            assert control is not None and (control.get("aria-required") == "true" or control.has_attr("required")), \
                f"{name}: * {label.get_text(strip=True)} is not required in code"


# --- inventory: no form shows field errors by hand -------------------------------------------------
# Templates that write a field error's markup themselves, each with its reason.
BY_HAND = {
    "_macros.html": "the shared macros",
    "members/form.html": "会员标签's checkboxes: their fieldset names its errors; form_errors lists them",
    "mutual_aid_vouchers/new.html": "the live 还差…元 note under the amounts, not a refusal",
    "cards/pending_detail.html": "a row's check results, not a form",
    "cards/pending.html": "the rows' check results (not a form); its inline 证件到期日 uses the macros",
    "plans/split_form.html": "one message for the sum of two fields (the alert, #split-error)",
    "plans/year.html": "a time window's row refuses its two inputs with one message (the alert links the first)",
}


def templates():
    return sorted(str(p.relative_to(PARTIALS)) for p in PARTIALS.rglob("*.html"))


def test_every_form_with_field_errors_uses_the_shared_macros():
    """A template that marks a field refused or prints a field's error does it through the shared
    macros (state / error / field / field_alert with form_errors): a new form written by hand fails
    here with its name."""
    by_hand, unlisted = [], []
    for name in templates():
        text = (PARTIALS / name).read_text(encoding="utf-8")
        if name in BY_HAND:
            continue
        if re.search(r'aria-invalid|class="field-error|aria-describedby="[^"]*-error', text):
            by_hand.append(name)
        marks = re.search(r"\bstate\(|\bfield\(|invalid\(", text)
        alert = re.search(r"form_errors|field_alert|summary\(|htmx_form\(.*form=form", text)
        if marks and "error" in text and not alert:
            unlisted.append(name)
    assert by_hand == [], f"field errors written by hand (use the macros of partials/_macros.html): {by_hand}"
    assert unlisted == [], f"refused fields no alert links to: {unlisted}"


def test_the_exemptions_are_still_needed():
    for name in BY_HAND:
        assert (PARTIALS / name).exists(), name
