"""在职职工互助保障 → 参保编码申请 and 参保编码审核 (issue 18 item 1, seed 004 pages 12–16): a union
applies with its files (上传文件, removable before 提交申请), a file that is not an image or PDF is
refused in Chinese with nothing written, a unit name that has a code fails with "提交失败" and that
code's contact, the centre approves (the code shows) or refuses with a reason (编辑 → resubmit),
another union's application is 404, 市总工会 only looks."""

import io

from pypdf import PdfWriter

from models.audit import AuditLog
from models.messages import for_account
from models.mutual_aid.codes import APPLYING, APPROVED, REFUSED, CodeFile, InsuranceCode
from models.storage import KEPT_DIR, storage_dir
from tests import factories
from tests.factories.mutual_aid import applied, approved_code, form, png, sms_code
from tests.helpers import soup

BASE = "/mutual-aid/codes"
# 业务工作台 → 在职职工互助保障 (ma-integrate): the unit's screens, the centre's queues (each with its
# waiting count: tests/test_mutual_aid_integrate.py).
HANDLER = "/mutual-aid/handler/"
UNIT_TILES_AFTER_CODES = [("参保批次管理", "/mutual-aid/batches/"), ("互助保障缴费凭证", "/mutual-aid/vouchers/"),
                          ("专用收据", "/mutual-aid/receipts/")]
CENTRE_TILES = [("参保编码审核", f"{BASE}/review"), ("信息变更审核", "/mutual-aid/changes/review"),
                ("附件审核", "/mutual-aid/attachments/"), ("互助保障缴费凭证审核", "/mutual-aid/vouchers/review"),
                ("专用收据审核", "/mutual-aid/receipts/review"), ("账号找回申请", "/account-recovery/review")]


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def posted(fields: dict, files=(), action="submit", **extra) -> dict:
    return {**fields, "action": action, "files": [(io.BytesIO(data), name) for name, data in files], **extra}


def kept_count() -> int:
    return len(list(storage_dir(KEPT_DIR).iterdir()))


def apply_as(client, n: int = 1, files=(("营业执照.png", png()),), **fields):
    values = form(n, **fields)
    code = sms_code(client, f"{BASE}/new", values["phone"])
    return client.post(f"{BASE}/new", data=posted(values, files, sms_code=code), content_type="multipart/form-data")


def test_a_union_applies_with_several_files_and_sees_its_application_waiting(city, as_role):
    client = as_role("grassroots")
    page = soup(client.get(f"{BASE}/"))
    assert page.select_one("#apply-code").get_text() == "申请参保编码"
    form_page = soup(client.get(f"{BASE}/new"))
    labels = {label.get_text(" ", strip=True) for label in form_page.select("#code-form label")}
    assert {"* 单位名称", "* 统一社会信用代码", "* 单位地址", "* 联系人", "* 联系电话", "单位邮箱"} <= labels
    assert form_page.select_one("#submit-code").get_text() == "提交申请"
    assert form_page.select_one("#upload-files").get_text() == "上传文件"

    response = apply_as(client, files=[("营业执照.png", png()), ("社会保险费缴费申报表.pdf", pdf())])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/")
    code = InsuranceCode.get(InsuranceCode.account == city.account("grassroots").id)
    assert code.status == APPLYING and code.unit_name == "上海互助测试1有限公司"
    files = CodeFile.select().where(CodeFile.code == code.id).order_by(CodeFile.id)
    assert [(f.file_name, f.content_type) for f in files] == [("营业执照.png", "image/png"),
                                                              ("社会保险费缴费申报表.pdf", "application/pdf")]
    listing = soup(client.get(f"{BASE}/"))
    assert listing.select_one("#code-status").get_text() == "申请中"
    assert listing.select_one("#code-number").get_text() == ""
    assert listing.select_one("#edit-code") is None
    assert "审核时间为提交申请后1个工作日" in listing.get_text()
    # one application per account: the form is not offered again
    assert client.get(f"{BASE}/new").status_code == 302


def test_files_are_uploaded_first_and_may_be_removed_before_submitting(city, as_role):
    client = as_role("grassroots")
    page = soup(client.post(f"{BASE}/new", data=posted(form(1), [("营业执照.png", png()), ("申报表.pdf", pdf())],
                                                       action="upload"), content_type="multipart/form-data"))
    kept = [(li.select_one(".name").get_text(), li.select_one("input[name=kept]")["value"])
            for li in page.select("#kept-files li")]
    assert [name for name, _ in kept] == ["营业执照.png", "申报表.pdf"]
    assert page.select_one("#f-unit_name")["value"] == "上海互助测试1有限公司"  # the fields stay
    assert InsuranceCode.select().count() == 0  # nothing submitted yet
    tokens = {"kept": [t for _, t in kept], "kept_name": [n for n, _ in kept]}
    page = soup(client.post(f"{BASE}/new", data=posted(form(1), action="upload", remove=kept[0][1], **tokens),
                            content_type="multipart/form-data"))
    assert [li.select_one(".name").get_text() for li in page.select("#kept-files li")] == ["申报表.pdf"]
    code = sms_code(client, f"{BASE}/new", form(1)["phone"])
    response = client.post(f"{BASE}/new", data=posted(form(1), kept=[kept[1][1]], kept_name=["申报表.pdf"],
                                                      sms_code=code), content_type="multipart/form-data")
    assert response.status_code == 302
    code = InsuranceCode.get(InsuranceCode.account == city.account("grassroots").id)
    assert [f.file_name for f in CodeFile.select().where(CodeFile.code == code.id)] == ["申报表.pdf"]
    # another account cannot use a kept token: it opens nothing
    other = as_role("grassroots", 1)
    page = soup(other.post(f"{BASE}/new", data=posted(form(2), action="upload", kept=[kept[0][1]],
                                                      kept_name=["营业执照.png"]), content_type="multipart/form-data"))
    assert page.select("#kept-files li") == []


def test_a_file_that_is_not_an_image_or_pdf_is_refused_in_chinese_and_nothing_is_written(city, as_role):
    client = as_role("grassroots")
    audit, kept = AuditLog.select().count(), kept_count()
    for action in ("submit", "upload"):
        response = client.post(f"{BASE}/new", data=posted(form(1), [("营业执照.png", b"MZ\x90\x00 not a picture")],
                                                          action=action), content_type="multipart/form-data")
        assert response.status_code == 422
        message = soup(response).select_one("#code-error").get_text()
        assert message == "附件只能是图片（JPG/PNG）或PDF文件，所选文件无法识别"
    assert InsuranceCode.select().count() == 0 and CodeFile.select().count() == 0
    assert AuditLog.select().count() == audit and kept_count() == kept
    # no file at all: the field says which files
    response = apply_as(client, files=[])
    assert response.status_code == 422
    assert "营业执照" in soup(response).select_one("#code-files .field-error").get_text()
    assert InsuranceCode.select().count() == 0


def test_a_unit_name_that_has_a_code_fails_with_that_codes_contact(city, as_role):
    approved_code(city, 5)  # another account's unit, approved, handler 经办人5 / 13800000005
    client = as_role("grassroots")
    response = apply_as(client, n=1, unit_name="上海互助测试5有限公司")
    assert response.status_code == 409
    message = soup(response).select_one("#code-error").get_text()
    assert message.startswith("提交失败")
    assert "联系人：经办人5，联系电话：13800000005" in message
    assert InsuranceCode.select().where(InsuranceCode.account == city.account("grassroots").id).count() == 0


def test_the_centre_approves_and_the_code_shows_to_the_union(city, as_role):
    union = as_role("grassroots")
    apply_as(union)
    code = InsuranceCode.get(InsuranceCode.account == city.account("grassroots").id)
    centre = as_role("centre")
    queue = soup(centre.get(f"{BASE}/review", query_string={"status": "申请中", "name": "互助测试1"}))
    assert [td.get_text() for td in queue.select("#rows tbody tr td.name")] == ["上海互助测试1有限公司"]
    assert soup(centre.get(f"{BASE}/review", query_string={"status": "审核通过"})).select("#rows td.name") == []
    detail = soup(centre.get(f"{BASE}/{code.id}"))
    link = detail.select_one("#code-file-list a")
    assert link.get_text() == "营业执照.png"
    served = centre.get(link["href"])
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert union.get(link["href"]).status_code == 200  # the applicant opens its own file
    response = centre.post(f"{BASE}/{code.id}/approve", data={"number": "hz2026001"})
    assert response.status_code == 302
    listing = soup(union.get(f"{BASE}/"))
    assert listing.select_one("#code-status").get_text() == APPROVED
    assert listing.select_one("#code-number").get_text() == "HZ2026001"
    titles = [m.title for m in for_account(city.account("grassroots"))]
    assert "您的参保编码申请「上海互助测试1有限公司」已审核通过" in titles
    # decided once: no decision controls any more, a second decision refused in Chinese
    assert soup(centre.get(f"{BASE}/{code.id}")).select_one("#decide") is None
    again = centre.post(f"{BASE}/{code.id}/refuse", data={"reason": "重复"})
    assert again.status_code == 409 and "审核通过" in soup(again).select_one("#decide-error").get_text()


def test_refused_with_a_reason_then_edited_and_resubmitted(city, as_role):
    union, centre = as_role("grassroots"), as_role("centre")
    apply_as(union)
    code = InsuranceCode.get(InsuranceCode.account == city.account("grassroots").id)
    no_reason = centre.post(f"{BASE}/{code.id}/refuse", data={"reason": " "})
    assert no_reason.status_code == 422
    assert soup(no_reason).select_one("#decide-error").get_text() == "「参保编码审核不通过」须填写原因"
    assert InsuranceCode.get_by_id(code.id).status == APPLYING
    centre.post(f"{BASE}/{code.id}/refuse", data={"reason": "营业执照复印件未盖公章"})
    listing = soup(union.get(f"{BASE}/"))
    assert listing.select_one("#code-status").get_text() == REFUSED
    edit_page = soup(union.get(listing.select_one("#edit-code")["href"]))
    assert edit_page.select_one("#refusal-reason").get_text() == "审核不通过原因：营业执照复印件未盖公章"
    assert edit_page.select_one("#f-address")["value"] == "上海市黄浦区测试路1号"
    assert [m.title for m in for_account(city.account("grassroots"))][0] == \
        "您的参保编码申请「上海互助测试1有限公司」审核不通过"
    response = union.post(f"{BASE}/{code.id}/edit",
                          data=posted(form(1, address="上海市黄浦区改正路8号"), [("盖章营业执照.jpg", png())]),
                          content_type="multipart/form-data")
    assert response.status_code == 302
    code = InsuranceCode.get_by_id(code.id)
    assert code.status == APPLYING and code.address == "上海市黄浦区改正路8号"
    assert CodeFile.select().where(CodeFile.code == code.id).count() == 2
    assert soup(union.get(f"{BASE}/")).select_one("#edit-code") is None
    # 编辑 only after 审核不通过
    assert union.get(f"{BASE}/{code.id}/edit").status_code == 302


def test_another_unions_application_and_its_files_are_404(city, as_role):
    other = applied(city, 7)  # an account of grassroots1 other than the logged-in one
    foreign = factories.mutual_aid.code_of(city.orgs["grassroots2"])
    file_id = CodeFile.get(CodeFile.code == foreign.id).id
    client = as_role("grassroots")
    for code in (other, foreign):
        for url in (f"{BASE}/{code.id}", f"{BASE}/{code.id}/edit",
                    f"{BASE}/{code.id}/file?n={CodeFile.get(CodeFile.code == code.id).id}"):
            assert client.get(url).status_code == 404, url
    # its own code's page does not open another code's file either
    apply_as(client)
    mine = InsuranceCode.get(InsuranceCode.account == city.account("grassroots").id)
    assert client.get(f"{BASE}/{mine.id}/file?n={file_id}").status_code == 404
    assert as_role("district").get(f"{BASE}/{foreign.id}").status_code == 403
    assert as_role("grassroots").post(f"{BASE}/{foreign.id}/approve").status_code == 403


def test_the_city_account_looks_but_may_not_decide_nor_open_files(city, as_role):
    code = applied(city, 3)
    client = as_role("city")
    assert "上海互助测试3有限公司" in soup(client.get(f"{BASE}/review")).select_one("#rows").get_text()
    page = soup(client.get(f"{BASE}/{code.id}"))
    assert page.select_one("#decide") is None and page.select("form[method=post] #approve-code") == []
    assert page.select("#code-file-list a") == []
    assert client.get(f"{BASE}/{code.id}/file?n={CodeFile.get(CodeFile.code == code.id).id}").status_code == 404
    before = AuditLog.select().count()
    response = client.post(f"{BASE}/{code.id}/approve", data={"number": "HZ1"})
    assert response.status_code == 403
    assert soup(response).select_one(".refusal").get_text() == "市总工会账号只能查看，不能修改数据"
    assert InsuranceCode.get_by_id(code.id).status == APPLYING and AuditLog.select().count() == before
    assert client.get(f"{BASE}/").status_code == 403  # 参保编码申请 is a union's own screen


def test_menu_and_workbench_lead_each_role_to_its_screen(city, as_role):
    union = soup(as_role("grassroots").get("/workbench"))
    assert union.select_one("#mutual-aid").get_text() == "在职职工互助保障"
    assert [(a.get_text(), a["href"]) for a in union.select("ul[aria-labelledby=mutual-aid] a")] == [
        ("参保编码申请", f"{BASE}/"), ("经办人填报", HANDLER), *UNIT_TILES_AFTER_CODES]
    assert soup(as_role("grassroots").get("/home")).find("a", string="参保编码申请")["href"] == f"{BASE}/"
    centre = soup(as_role("centre").get("/workbench"))
    assert [(a.get_text(), a["href"]) for a in centre.select("ul[aria-labelledby=mutual-aid] a:not(.tile-count)")] \
        == [("互助保障年度设置", "/mutual-aid/years"), ("经办人填报", HANDLER),
            ("建议清册导入", "/mutual-aid/registry"), ("参保批次查询", "/mutual-aid/centre/batches"),
            ("互助保障统计", "/mutual-aid/stats/"), *CENTRE_TILES]
    district = soup(as_role("district").get("/workbench"))
    assert [a.get_text() for a in district.select("ul[aria-labelledby=mutual-aid] a:not(.tile-count)")] == [
        "经办人填报", "参保批次查询", "互助保障缴费凭证审核", "专用收据审核"]
    assert soup(as_role("centre").get("/home")).find("a", string="参保编码申请") is None
    assert soup(as_role("city").get("/home")).find("a", string="参保编码审核")["href"] == f"{BASE}/review"
