"""The review chain walked without JavaScript (issue 16 item 17a): what broke on the way — the
voucher file dropped by 计算已选中批次金额, a CSRF token in a GET URL, the centre's one-click 确认 /
确认核销 (their confirmation steps are in tests/test_review.py), no way back from a returned
submission, an upper-case e-mail in the handler form, an unlabeled second search box."""

import io
import re
from pathlib import Path

import time_machine

from models.enroll import enrollment, plans
from models.enroll.enrollment import Submission
from models.review import enroll_review as review
from models.review.batches import DistrictBatch
from models.review.vouchers import PaymentVoucher
from models.storage import stored_file
from tests.factories.enroll import people, ready_year
from tests.factories.review import PNG, REVIEW_DAY, SUBMIT_DAY, accepted_batch, at, keys, submit, submitted_batch
from tests.helpers import soup

ROOT = Path(__file__).resolve().parent.parent


def _voucher_form(client, data):
    return client.post("/batches/vouchers/new", data=data, content_type="multipart/form-data")


def test_the_chosen_voucher_file_survives_the_amount_step_and_a_refused_save(city, as_role):
    batch = accepted_batch(city)
    with time_machine.travel(at(2027, 1, 4, 9), tick=False):
        client = as_role("district")
        # 计算已选中批次金额 (no JavaScript) with the file already chosen: the file is kept.
        shown = _voucher_form(client, {"batch": [str(batch.id)], "file_name": "", "save": "0",
                                       "voucher": (io.BytesIO(PNG), "回单.png")})
        page = soup(shown)
        assert "应缴合计" in page.select_one("#amount-due").get_text()
        assert "已选择文件：回单.png" in page.select_one("#voucher-kept").get_text()
        token = page.select_one('input[name="upload"]')["value"]
        # 保存 without 文件名称: refused, and the file is still kept.
        refused = _voucher_form(client, {"batch": [str(batch.id)], "file_name": "", "save": "1", "upload": token,
                                         "upload_name": "回单.png"})
        assert refused.status_code == 422 and "请填写文件名称" in refused.get_data(as_text=True)
        assert f'value="{token}"' in refused.get_data(as_text=True)
        # Another district cannot use the token.
        other = _voucher_form(as_role("district", 1), {"file_name": "x", "save": "1", "upload": token})
        assert "请选择" in other.get_data(as_text=True) and PaymentVoucher.select().count() == 0
        # 保存 with the name: the kept file is the voucher; no file picked a second time.
        saved = _voucher_form(client, {"batch": [str(batch.id)], "file_name": "12月缴费凭证", "save": "1",
                                       "upload": token, "upload_name": "回单.png"})
        assert saved.status_code == 302
    voucher = PaymentVoucher.get()
    assert voucher.content_type == "image/png"
    assert stored_file("vouchers", voucher.stored_name).read_bytes().startswith(b"\x89PNG")
    assert DistrictBatch.get_by_id(batch.id).status == "凭证审核中"
    assert not list(stored_file("kept-uploads", "x").parent.glob(f"*-{token}"))  # the kept copy is gone


def test_a_new_voucher_file_replaces_the_one_kept_before(city, as_role):
    """Choosing another file while an earlier one is kept (its token carried by the form) deletes
    the earlier kept file: one district cannot pile up kept files by re-posting the form."""
    batch = accepted_batch(city)
    kept_dir = stored_file("kept-uploads", "x").parent
    with time_machine.travel(at(2027, 1, 4, 9), tick=False):
        client = as_role("district")
        other = as_role("district", 1)
        their_form = _voucher_form(other, {"save": "0", "voucher": (io.BytesIO(PNG), "他区.png")})
        theirs = soup(their_form).select_one('input[name="upload"]')["value"]
        first = _voucher_form(client, {"batch": [str(batch.id)], "save": "0",
                                       "voucher": (io.BytesIO(PNG), "回单.png")})
        token = soup(first).select_one('input[name="upload"]')["value"]
        again = _voucher_form(client, {"batch": [str(batch.id)], "save": "0", "upload": token,
                                       "upload_name": "回单.png", "voucher": (io.BytesIO(PNG), "回单2.png")})
        page = soup(again)
        assert "已选择文件：回单2.png" in page.select_one("#voucher-kept").get_text()
        newer = page.select_one('input[name="upload"]')["value"]
        assert newer != token
        assert not list(kept_dir.glob(f"*-{token}")) and len(list(kept_dir.glob(f"*-{newer}"))) == 1
        # A token of another district is never touched by this district's form.
        _voucher_form(client, {"save": "0", "upload": theirs, "voucher": (io.BytesIO(PNG), "回单3.png")})
        assert len(list(kept_dir.glob(f"*-{theirs}"))) == 1


def _post_forms_with_a_get_button(source: str) -> list:
    found = []
    for form in re.findall(r"<form\b.*?</form>", source, flags=re.S):
        if re.search(r'method="post"', form.split(">", 1)[0]) and 'csrf_token' in form and 'formmethod="get"' in form:
            found.append(form[:120])
    return found


def test_no_get_button_sends_the_csrf_token_of_its_form():
    # A button that turns a POST form (with its csrf_token) into a GET puts the token in the URL.
    offenders = {str(p.relative_to(ROOT)): _post_forms_with_a_get_button(p.read_text(encoding="utf-8"))
                 for p in (ROOT / "partials").rglob("*.html")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_amount_update_button_posts_and_changes_nothing(city, as_role):
    year = ready_year(city)
    org = city.orgs["grassroots1"]
    people(org, 2)
    with time_machine.travel(REVIEW_DAY, tick=False):
        client = as_role("grassroots")
        page = client.get("/enroll/card/central").get_data(as_text=True)
        assert "按所选保障类型和排除条件更新金额" in page and 'formmethod="get"' not in page
        t = plans.types_of(year)[0]
        shown = client.post("/enroll/card/central", data={"type": str(t.id), "exclude": "1", "update": "1"})
        text = shown.get_data(as_text=True)
        assert shown.status_code == 200 and 'id="central-header"' in text and "确定提交" not in text
    assert Submission.select().count() == 0


def test_a_returned_submission_links_back_to_its_screen(city, as_role):
    ready_year(city)
    card = submit(city, n=1)
    social = submit(city, n=1, channel=enrollment.SOCIAL_CHANNEL)
    district = city.orgs["district1"]
    year = card.year
    with time_machine.travel(REVIEW_DAY, tick=False):
        review.return_groups(district, year, review.CENTRAL_KIND, keys(district, year), "人员有误", None)
        client = as_role("grassroots")
        page = soup(client.get(f"/enroll/submissions/{card.id}"))
        assert page.select_one("#resubmit-link")["href"] == "/enroll/card/central"
        assert "人员有误" in page.select_one("#resubmit").get_text()
        page = soup(client.get(f"/enroll/submissions/{social.id}"))
        assert page.select_one("#resubmit-link")["href"] == "/enroll/social/central?tab=ready"
        assert client.get(page.select_one("#resubmit-link")["href"]).status_code == 200
        # Only the union that submitted it is offered the way back.
        other = as_role("district").get(f"/enroll/submissions/{card.id}").get_data(as_text=True)
        assert 'id="resubmit-link"' not in other


def test_the_handler_form_is_prefilled_with_the_e_mail_as_saved(city, as_role):
    submitted_batch(city)  # saved with w@example.com
    DistrictBatch.update(handler_email="w@example.com").execute()
    submit(city, n=1)
    district = city.orgs["district1"]
    year = DistrictBatch.get().year
    review.add_to_queue(district, year, review.CENTRAL_KIND, keys(district, year), None)
    with time_machine.travel(SUBMIT_DAY, tick=False):
        client = as_role("district")
        page = soup(client.get("/review/central/submit"))
        assert page.select_one('input[name="email"]')["value"] == "w@example.com"
        client.post("/review/central/submit", data={"name": "王经办", "mobile": "13800000000",
                                                     "email": " Wang.JB@Example.COM "})
    assert DistrictBatch.select().order_by(DistrictBatch.id.desc()).get().handler_email == "wang.jb@example.com"


def test_the_pending_submit_pane_has_no_unlabeled_second_search_box(city, as_role):
    ready_year(city)
    with time_machine.travel(REVIEW_DAY, tick=False):
        page = soup(as_role("district").get("/review/central"))
    pane = page.select_one("#queued-pane form.filters")
    boxes = [i for i in pane.select("input") if i.get("type") not in ("hidden", "date")]
    # The manual's 待提交参保列表: 单位名称, 上级工会, 提交时间 至, 搜索 — one box each, each labelled.
    assert [i["name"] for i in boxes] == ["q_name", "q_parent"]
    assert [pane.find("label", attrs={"for": i["id"]}).get_text() for i in boxes] == ["单位名称", "上级工会"]
