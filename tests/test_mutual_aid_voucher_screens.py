"""在职职工互助保障 → 互助保障缴费凭证 / 专用收据 and the centre's 互助保障缴费凭证审核 / 专用收据审核
(issue 18 item 8; seed 004 (五)(六)): the unit's page shows the receiving account and the payment
deadline, 新增缴费信息 computes the refund (htmx and without JavaScript, the file kept between the
steps), the refund details are required on the server, a bad file and another unit's batch are
refused, the centre's queue filters and decides, 市总工会 only looks, receipts that do not sum are
refused, and the menu labels never collide with the other line's 缴费凭证管理."""

import io
from datetime import datetime

from pypdf import PdfReader, PdfWriter

from models.audit import AuditLog
from models.base import today as shanghai_today
from models.mutual_aid.batches import AWAIT_VOUCHER, INSURED, VOUCHER_REVIEW, AidBatch
from models.mutual_aid.voucher_ops import file_path
from models.mutual_aid.vouchers import R_PASSED, R_REVIEW, V_DONE, V_REVIEW, AidReceiptSet, AidVoucher
from tests import factories
from tests.factories.aid_money import REFUND_DETAILS, payable_batch, payer, uploaded_voucher
from tests.factories.mutual_aid import approved_code, png
from tests.helpers import soup, statements

BASE = "/mutual-aid/vouchers"
RECEIPTS = "/mutual-aid/receipts"
HX = {"HX-Request": "true"}


def client_of(app, account):
    client = app.test_client()
    factories.login(client, account)
    return client


def posted(batches, paid, file=None, save="1", **fields) -> dict:
    data = {**payer(paid, **fields), "batch": [str(b.id) for b in batches], "save": save}
    if file is not None:
        data["voucher"] = (io.BytesIO(file[1]), file[0])
    return data


def post(client, data):
    return client.post(f"{BASE}/new", data=data, content_type="multipart/form-data")


def errors_of(response) -> dict:
    page = soup(response)
    return {p["id"].removeprefix("f-").removesuffix("-error"): p.get_text(strip=True)
            for p in page.select("p.field-error[id]")}


def test_the_unit_sees_the_receiving_account_and_the_later_deadline(app, city):
    code = approved_code(city, 1)
    payable_batch(code, 5580_00, submitted=datetime(2026, 6, 1, 9), confirmed=datetime(2026, 6, 10, 9))
    page = soup(client_of(app, code.account).get(f"{BASE}/"))
    assert page.select_one("#account-name").get_text() == "上海市职工保障互助会"
    assert page.select_one("#account-no").get_text() == "31602300008022150"
    assert page.select_one("#account-bank").get_text() == "上海银行人民广场支行"
    row = [td.get_text(strip=True) for td in page.select("#payable-batches tbody td")]
    assert row == ["2026年度", "集中参保", code.code, "5580元", "2026-06-25", "参保清册保费详细"]
    assert page.select_one("#new-voucher").get_text() == "新增缴费信息"


def test_the_refund_is_computed_with_htmx_and_without_javascript(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    client = client_of(app, code.account)
    pane = client.get(f"{BASE}/new", query_string={"pane": "amounts", "batch": batch.id, "paid": "5580.01"},
                      headers=HX)
    fragment = soup(pane)
    assert fragment.select_one("form") is None
    assert fragment.select_one("#amount-total").get_text() == "应缴保费合计：5580元"
    assert fragment.select_one("#amount-refund").get_text() == "退款金额：0.01元（请填写退款信息）"
    exact = soup(client.get(f"{BASE}/new", query_string={"pane": "amounts", "batch": batch.id, "paid": "5580"},
                            headers=HX))
    assert exact.select_one("#amount-refund") is None
    short = soup(client.get(f"{BASE}/new", query_string={"pane": "amounts", "batch": batch.id, "paid": "5000"},
                            headers=HX))
    assert short.select_one("#amount-short").get_text() == "缴费金额少于应缴保费合计，还差580元"
    # Without JavaScript: 计算退款金额 posts the form, keeps the file, saves nothing.
    computed = post(client, posted([batch], "5580.01", ("回单.png", png()), save="0"))
    page = soup(computed)
    assert computed.status_code == 200 and page.select_one("#compute").get_text() == "计算退款金额"
    assert page.select_one("#amount-refund").get_text().startswith("退款金额：0.01元")
    assert page.select_one("#voucher-kept").get_text().startswith("已选择文件：回单.png")
    assert AidVoucher.select().count() == 0


def test_paid_one_fen_more_needs_the_refund_details_then_saves_with_the_kept_file(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    client = client_of(app, code.account)
    refused = post(client, posted([batch], "5580.01", ("回单.png", png())))
    assert refused.status_code == 422
    errors = errors_of(refused)
    assert errors["refund_name"] == "缴费金额超出应缴保费合计，退款0.01元，请填写退款户名"
    assert set(errors) == {"refund_name", "refund_account", "refund_bank"}
    assert AidVoucher.select().count() == 0 and AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER
    page = soup(refused)
    token = page.select_one("input[name=upload]")["value"]
    saved = post(client, {**posted([batch], "5580.01", **REFUND_DETAILS), "upload": token, "upload_name": "回单.png"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:600]
    voucher = AidVoucher.get()
    assert saved.headers["Location"].endswith(f"{BASE}/{voucher.id}")
    assert (voucher.refund, voucher.refund_bank, voucher.file_name) == (1, "工商银行黄浦支行", "回单.png")
    assert AidBatch.get_by_id(batch.id).status == VOUCHER_REVIEW
    detail = soup(client.get(f"{BASE}/{voucher.id}"))
    assert detail.select_one("#voucher-refund").get_text() == "0.01元"
    assert detail.select_one("#refund-account").get_text() == "6222000011113333"
    assert detail.select_one("#write-off") is None  # the unit does not decide
    assert client.get(f"{BASE}/{voucher.id}/file").data == voucher_file(voucher)


def voucher_file(voucher) -> bytes:
    return file_path(voucher).read_bytes()


def test_paid_exactly_needs_no_refund_details(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 5580_00)
    saved = post(client_of(app, code.account), posted([batch], "5580", ("回单.pdf", _pdf())))
    assert saved.status_code == 302
    assert AidVoucher.get().content_type == "application/pdf" and AidVoucher.get().refund == 0


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_file_that_is_not_an_image_or_pdf_is_refused_in_chinese(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    response = post(client_of(app, code.account), posted([batch], "100", ("回单.exe", b"MZ\x90\x00 not a voucher")))
    assert response.status_code == 422
    assert "缴费凭证只能是图片（JPG/PNG）或PDF文件" in soup(response).select_one("#voucher-error").get_text()
    assert AidVoucher.select().count() == 0 and AidBatch.get_by_id(batch.id).status == AWAIT_VOUCHER


def test_another_units_batch_and_voucher_are_404(app, city):
    code, other = approved_code(city, 1), approved_code(city, 2)
    theirs = payable_batch(other, 100_00)
    client = client_of(app, code.account)
    response = post(client, posted([theirs], "100", ("回单.png", png())))
    assert response.status_code == 404 and AidBatch.get_by_id(theirs.id).status == AWAIT_VOUCHER
    voucher = uploaded_voucher(other, [theirs])
    assert client.get(f"{BASE}/{voucher.id}").status_code == 404
    assert client.get(f"{BASE}/{voucher.id}/file").status_code == 404
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    assert client.get(f"{RECEIPTS}/{receipts.id}").status_code == 404
    assert client.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": "x", "amount": "1"}).status_code == 404
    assert client.get(f"{BASE}/999999999999").status_code == 404


def test_the_centre_filters_the_queue_and_writes_off(app, city):
    code, other = approved_code(city, 1), approved_code(city, 2)
    mine = uploaded_voucher(code, [payable_batch(code, 100_00)])
    theirs = uploaded_voucher(other, [payable_batch(other, 200_00, kind="即时参保")])
    centre = client_of(app, city.account("centre"))

    def listed(**args):
        response = centre.get(f"{BASE}/review", query_string=args, headers=HX)
        return [a["href"] for a in soup(response).select("#rows td a")]
    assert len(listed()) == 2
    assert listed(code=code.code.lower()) == [f"{BASE}/{mine.id}"]
    assert listed(unit="测试2") == [f"{BASE}/{theirs.id}"]
    assert listed(status=V_DONE) == [] and len(listed(status=V_REVIEW)) == 2
    assert len(listed(year=2026)) == 2 and listed(year=2025) == []
    assert len(listed(year="99999999999999999999")) == 2  # ignored, never a 500
    today = shanghai_today().isoformat()  # the app's day (Asia/Shanghai), not the machine's
    assert len(listed(start=today, end=today)) == 2 and listed(start="2099-01-01") == []
    bad = centre.get(f"{BASE}/review", query_string={"start": "2026-13-40"})
    assert bad.status_code == 422 and "上传时间（起）格式应为 年-月-日" in bad.get_data(as_text=True)

    page = soup(centre.get(f"{BASE}/{mine.id}"))
    assert page.select_one("#write-off").get_text() == "核销"
    assert page.select_one("#voucher-open")["href"].endswith(f"/{mine.id}/file?inline=1")
    no_reason = centre.post(f"{BASE}/{theirs.id}/reject", data={"reason": " "})
    assert no_reason.status_code == 422
    assert "「驳回」须填写原因" in soup(no_reason).select_one("#decide-error").get_text()
    done = centre.post(f"{BASE}/{mine.id}/write_off")
    assert done.status_code == 302 and AidVoucher.get_by_id(mine.id).status == V_DONE
    assert [b.status for b in AidBatch.select().where(AidBatch.code == code.id)] == [INSURED]
    again = centre.post(f"{BASE}/{mine.id}/write_off")
    assert again.status_code == 409 and "当前状态为「已核销」" in soup(again).select_one("#decide-error").get_text()


def test_the_city_only_looks(app, city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 100_00)])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    looker = client_of(app, city.account("city"))
    assert looker.get(f"{BASE}/review").status_code == 200
    page = soup(looker.get(f"{BASE}/{voucher.id}"))
    assert page.select_one("#write-off") is None and page.select_one("#reject") is None
    before = AuditLog.select().count()
    assert looker.post(f"{BASE}/{voucher.id}/write_off").status_code == 403
    assert looker.post(f"{BASE}/{voucher.id}/reject", data={"reason": "x"}).status_code == 403
    assert looker.post(f"{RECEIPTS}/{receipts.id}/pass").status_code == 403
    assert looker.get(f"{BASE}/").status_code == 403 and looker.get(f"{BASE}/new").status_code == 403
    assert AuditLog.select().count() == before and AidVoucher.get_by_id(voucher.id).status == V_REVIEW


def test_receipts_that_do_not_sum_are_refused_then_the_centre_passes_them(app, city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 5580_00)], paid="6000", **REFUND_DETAILS)
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    unit = client_of(app, code.account)
    listing = soup(unit.get(f"{RECEIPTS}/"))
    assert listing.select_one("#receipt-sets td a")["href"] == f"{RECEIPTS}/{receipts.id}"
    for title, amount in (("上海互助测试1有限公司", "3000"), ("集团子公司", "2579.99")):
        assert unit.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": title, "amount": amount}).status_code == 302
    blank = unit.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": "", "amount": "abc"})
    assert blank.status_code == 422 and "请填写收据抬头" in soup(blank).select_one("#receipt-error").get_text()
    page = soup(unit.get(f"{RECEIPTS}/{receipts.id}"))
    assert page.select_one("#receipt-total").get_text() == "5579.99元（还差0.01元）"
    short = unit.post(f"{RECEIPTS}/{receipts.id}/submit")
    assert short.status_code == 422
    assert soup(short).select_one("#receipt-error").get_text() == \
        "专用收据金额合计5579.99元，应等于应缴纳保费5580元，少0.01元"
    last = soup(short).select("#receipts input[name=receipt]")[-1]["value"]
    assert unit.post(f"{RECEIPTS}/{receipts.id}/remove", data={"receipt": last}).status_code == 302
    assert unit.post(f"{RECEIPTS}/{receipts.id}/remove", data={"receipt": "abc"}).status_code == 404
    unit.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": "集团子公司", "amount": "2580"})
    assert unit.post(f"{RECEIPTS}/{receipts.id}/submit").status_code == 302
    assert AidReceiptSet.get_by_id(receipts.id).status == R_REVIEW

    centre = client_of(app, city.account("centre"))
    queue = soup(centre.get(f"{RECEIPTS}/review"))
    assert [a["href"] for a in queue.select("#rows td a")] == [f"{RECEIPTS}/{receipts.id}"]
    early = centre.post(f"{RECEIPTS}/{receipts.id}/pass")
    assert early.status_code == 409 and "请先核销缴费凭证" in soup(early).select_one("#receipt-error").get_text()
    centre.post(f"{BASE}/{voucher.id}/write_off")
    assert centre.post(f"{RECEIPTS}/{receipts.id}/pass").status_code == 302
    assert AidReceiptSet.get_by_id(receipts.id).status == R_PASSED


def test_the_menu_labels_do_not_collide(app, city):
    code = approved_code(city, 1)
    for account in (code.account, city.account("centre"), city.account("city"), city.account("district")):
        client = client_of(app, account)
        labels = [a.get_text(strip=True) for a in soup(client.get("/home")).select("nav.sidemenu a")]
        assert len(labels) == len(set(labels)), labels
    unit_labels = [a.get_text(strip=True)
                   for a in soup(client_of(app, code.account).get("/home")).select("nav.sidemenu a")]
    assert {"互助保障缴费凭证", "专用收据"} <= set(unit_labels)
    centre_labels = [a.get_text(strip=True)
                     for a in soup(client_of(app, city.account("centre")).get("/home")).select("nav.sidemenu a")]
    assert {"缴费凭证管理", "互助保障缴费凭证审核", "专用收据审核"} <= set(centre_labels)


def test_the_passed_receipts_download_as_an_electronic_pdf_with_the_font_embedded(app, city):
    code = approved_code(city, 1)
    voucher = uploaded_voucher(code, [payable_batch(code, 5580_00)])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    unit = client_of(app, code.account)
    for title, amount in (("上海互助测试1有限公司", "3000"), ("集团子公司工会", "2580")):
        unit.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": title, "amount": amount})
    unit.post(f"{RECEIPTS}/{receipts.id}/submit")
    early = unit.get(f"{RECEIPTS}/{receipts.id}/pdf")
    assert early.status_code == 409 and "审核通过后才能下载电子专用收据" in early.get_data(as_text=True)
    centre = client_of(app, city.account("centre"))
    centre.post(f"{BASE}/{voucher.id}/write_off")
    centre.post(f"{RECEIPTS}/{receipts.id}/pass")
    page = soup(unit.get(f"{RECEIPTS}/{receipts.id}"))
    response = unit.get(page.select_one("#receipt-pdf")["href"])
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2  # one page per receipt
    texts = ["".join(p.extract_text().split()) for p in reader.pages]
    assert "收据抬头集团子公司工会" in texts[1] and "金额人民币2580元" in texts[1]
    assert f"收据编号HZSJ{receipts.id:06d}-01" in texts[0] and "上海互助测试1有限公司" in texts[0]
    assert "在职职工互助保障费（2026年度集中参保）" in texts[0] and "上海市职工保障互助会" in texts[0]
    embedded = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        f = font.get_object()
        descendants = f.get("/DescendantFonts")
        desc = (descendants[0].get_object() if descendants else f).get("/FontDescriptor")
        if desc is not None and any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            embedded.add(str(f["/BaseFont"]))
    assert any("wenquanyi" in name.lower() or "wqy" in name.lower() for name in embedded), embedded
    other = client_of(app, approved_code(city, 2).account)
    assert other.get(f"{RECEIPTS}/{receipts.id}/pdf").status_code == 404


def test_the_lists_query_the_same_whatever_their_length(app, city):
    """No query per row: the unit's page, the centre's two queues."""
    unit_code = approved_code(city, 1)
    unit, centre = client_of(app, unit_code.account), client_of(app, city.account("centre"))
    urls = ((unit, f"{BASE}/"), (unit, f"{BASE}/new"), (unit, f"{RECEIPTS}/"), (centre, f"{BASE}/review"),
            (centre, f"{RECEIPTS}/review?status=全部"))

    def counts():
        return [statements(lambda c=client, u=url: c.get(u, headers=HX), "SELECT") for client, url in urls]
    for n in range(2):
        payable_batch(unit_code, 100_00 + n, kind="即时参保")
        uploaded_voucher(unit_code, [payable_batch(unit_code, 200_00 + n, kind="即时参保")])
    few = counts()
    for n in range(3):
        payable_batch(unit_code, 300_00 + n, kind="即时参保")
        uploaded_voucher(unit_code, [payable_batch(unit_code, 400_00 + n, kind="即时参保")])
    assert counts() == few


def test_bad_input_is_a_chinese_message_never_a_500(app, city):
    code = approved_code(city, 1)
    batch = payable_batch(code, 100_00)
    unit = client_of(app, code.account)
    for form in ({"batch": "9" * 40, "paid": "1e9", "paid_on": "昨天", "save": "1"},
                 {"batch": str(batch.id), "paid": "9" * 40, "paid_on": "2026-06-20", "save": "1",
                  "payer_name": "名" * 500},
                 {"batch": [str(batch.id), "-1", "abc"], "save": "0", "upload": "../../etc/passwd"}):
        response = unit.post(f"{BASE}/new", data=form)
        assert response.status_code in (200, 404, 409, 422), (form, response.status_code)
    assert AidVoucher.select().count() == 0
    assert unit.get(f"{BASE}/new?pane=amounts&batch=abc&paid=%%%", headers=HX).status_code == 200
    voucher = uploaded_voucher(code, [batch])
    receipts = AidReceiptSet.get(AidReceiptSet.voucher == voucher.id)
    huge = unit.post(f"{RECEIPTS}/{receipts.id}/add", data={"title": "抬" * 300, "amount": "9" * 30})
    assert huge.status_code == 422
    assert "收据抬头不能超过100个字" in soup(huge).select_one("#receipt-error").get_text()
    centre = client_of(app, city.account("centre"))
    for query in ("year=abc", "year=-5", "status=%E5%85", "start=9999-99-99", "page=99999999999999999999"):
        assert centre.get(f"{BASE}/review?{query}").status_code in (200, 422), query
    assert centre.get(f"{RECEIPTS}/review?status=xyz").status_code == 200
