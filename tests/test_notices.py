"""重要通知 and 下载中心: public pages linked from the login page; the centre publishes, edits,
withdraws and republishes notices and files (audited); uploads are told by their content, not
their name, and are stored outside static/."""

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from models.audit import AuditLog
from models.notices import Download, Notice
from tests import factories
from tests.helpers import post_file, soup

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
XLSX = b"PK\x03\x04" + b"\x00" * 60
NOT_ALLOWED = "只能上传 PDF、Word、Excel、PowerPoint 或 ZIP 文件"


def refusal(response) -> str:
    node = soup(response).select_one(".refusal")
    return node.get_text(strip=True) if node else ""


def titles(response) -> list[str]:
    """Link texts in the list table (notices or downloads)."""
    return [a.get_text(strip=True) for a in soup(response).select("table.grid tbody td a")
            if a.get_text(strip=True) not in ("修改",)]


def flashes(response) -> list[str]:
    return [d.get_text(strip=True) for d in soup(response).select(".alert")]


def audit(obj):
    return [(r.action, r.from_state, r.to_state) for r in
            AuditLog.for_object(obj).order_by(AuditLog.id)]


def notice(title="测试通知", published=True, when=None, pinned=False, body="通知内容"):
    return Notice.create(title=title, body=body, published=published, pinned=pinned,
                         published_at=when or datetime(2026, 1, 1, 9, 0))


def downloads_dir(app) -> Path:
    return Path(app.config["STORAGE_DIR"]) / "downloads"


def stored_files(app) -> set:
    path = downloads_dir(app)
    return {p.name for p in path.iterdir()} if path.exists() else set()


def upload(client, data, filename, title="参保操作手册", category="操作说明"):
    return post_file(client, "/downloads/new", data, filename, title=title, category=category, description="")


# --- 重要通知: public ----------------------------------------------------------------------------
def test_public_reads_published_notices_without_logging_in(client):
    shown = notice("关于2026年度会员互助保障参保的通知", body="请各基层工会于3月底前完成参保。")
    notice("已撤回的通知", published=False)
    listing = client.get("/notices/")
    assert listing.status_code == 200
    assert titles(listing) == ["关于2026年度会员互助保障参保的通知"]
    assert soup(listing).select_one(".topbar") is None  # the public layout, no menu
    assert soup(listing).find("a", string="发布通知") is None

    detail = client.get(f"/notices/{shown.id}")
    assert detail.status_code == 200
    page = soup(detail)
    assert page.select_one("h1").get_text(strip=True) == "关于2026年度会员互助保障参保的通知"
    assert page.select_one(".notice-body").get_text(strip=True) == "请各基层工会于3月底前完成参保。"
    assert "（已撤回）" not in page.get_text()


def test_notice_body_is_shown_as_text_never_run(client):
    item = notice(body='<script>alert("x")</script><b>加粗</b>')
    page = soup(client.get(f"/notices/{item.id}"))
    body = page.select_one(".notice-body")
    assert body.find("script") is None and body.find("b") is None
    assert body.get_text() == '<script>alert("x")</script><b>加粗</b>'


def test_login_page_shows_latest_published_notices_and_links(client):
    for day in range(1, 7):
        notice(f"第{day}号通知", when=datetime(2026, 1, day, 9, 0))
    notice("置顶的旧通知", when=datetime(2025, 6, 1), pinned=True)
    notice("撤回的新通知", when=datetime(2026, 2, 1), published=False)
    page = soup(client.get("/login"))
    links = {a.get_text(strip=True): a["href"] for a in page.select(".login-links a")}
    assert links == {"企业注册": "/register", "账号找回申请": "/account-recovery/", "重要通知": "/notices/",
                     "下载中心": "/downloads/"}
    shown = [a.get_text(strip=True) for a in page.select(".login-notices li a")]
    assert shown == ["置顶的旧通知", "第6号通知", "第5号通知", "第4号通知", "第3号通知"]
    first = page.select_one(".login-notices li a")
    assert client.get(first["href"]).status_code == 200


def test_login_page_without_notices_has_no_notice_box(client):
    notice("撤回的通知", published=False)
    page = soup(client.get("/login"))
    assert page.select_one(".login-notices") is None
    assert "撤回的通知" not in page.get_text()


def test_withdrawn_notice_is_hidden_from_public_and_grassroots_but_not_the_centre(client, city, as_role):
    item = notice("已撤回的通知", published=False)
    assert client.get(f"/notices/{item.id}").status_code == 404
    grassroots = as_role("grassroots")
    assert grassroots.get(f"/notices/{item.id}").status_code == 404
    assert "已撤回的通知" not in titles(grassroots.get("/notices/"))
    assert as_role("district").get(f"/notices/{item.id}").status_code == 404

    centre = as_role("centre")
    detail = centre.get(f"/notices/{item.id}")
    assert detail.status_code == 200
    assert "（已撤回）" in soup(detail).get_text()
    row = soup(centre.get("/notices/")).select_one("table.grid tbody tr")
    assert "已撤回的通知" in row.get_text() and "已撤回" in row.get_text()
    assert row.find("button").get_text(strip=True) == "重新发布"


def test_unknown_notice_is_404(client):
    assert client.get("/notices/999999").status_code == 404


# --- 重要通知: the centre publishes ------------------------------------------------------------
def test_centre_publishes_edits_withdraws_and_republishes(client, city, as_role):
    centre = as_role("centre")
    form = soup(centre.get("/notices/new"))
    assert form.select_one("h1").get_text(strip=True) == "发布通知"

    response = centre.post("/notices/new", data={"title": "  关于系统升级的通知 ", "body": "本周六系统维护。"})
    assert response.status_code == 302
    item = Notice.get(Notice.title == "关于系统升级的通知")
    assert response.headers["Location"] == f"/notices/{item.id}"
    assert (item.published, item.org_id, item.author_id) == (True, city.orgs["centre"].id, city.account("centre").id)
    assert "通知已保存" in flashes(centre.get(response.headers["Location"]))
    assert titles(client.get("/notices/")) == ["关于系统升级的通知"]
    assert "关于系统升级的通知" in client.get("/login").get_data(as_text=True)

    edit_form = soup(centre.get(f"/notices/{item.id}/edit"))
    assert edit_form.select_one("#title")["value"] == "关于系统升级的通知"
    assert edit_form.select_one("#body").get_text(strip=True) == "本周六系统维护。"
    response = centre.post(f"/notices/{item.id}/edit", data={"title": "关于系统升级的补充通知",
                                                             "body": "维护改到周日。"})
    assert response.status_code == 302
    public_detail = soup(client.get(f"/notices/{item.id}"))
    assert public_detail.select_one("h1").get_text(strip=True) == "关于系统升级的补充通知"
    assert public_detail.select_one(".notice-body").get_text(strip=True) == "维护改到周日。"

    response = centre.post(f"/notices/{item.id}/withdraw")
    assert response.status_code == 302 and response.headers["Location"] == "/notices/"
    assert "已撤回，登录页不再显示" in flashes(centre.get("/notices/"))
    assert client.get(f"/notices/{item.id}").status_code == 404
    assert titles(client.get("/notices/")) == []
    assert "关于系统升级的通知" not in client.get("/login").get_data(as_text=True)

    assert centre.post(f"/notices/{item.id}/publish").status_code == 302
    assert client.get(f"/notices/{item.id}").status_code == 200

    assert audit(item) == [("发布通知", "", "已发布"), ("修改通知", "", ""), ("撤回通知", "已发布", "已撤回"),
                           ("重新发布通知", "已撤回", "已发布")]
    assert {r.account_name for r in AuditLog.for_object(item)} == {city.account("centre").username}


def test_pinned_notice_comes_first(client, as_role):
    notice("新通知", when=datetime(2026, 3, 1))
    centre = as_role("centre")
    centre.post("/notices/new", data={"title": "置顶通知", "body": "内容", "pinned": "y"})
    Notice.update(published_at=datetime(2025, 1, 1)).where(Notice.title == "置顶通知").execute()
    assert titles(client.get("/notices/")) == ["置顶通知", "新通知"]
    assert soup(client.get("/notices/")).select_one("tbody tr .tag").get_text(strip=True) == "置顶"


@pytest.mark.parametrize("data,message", [
    ({"title": "", "body": "内容"}, "请填写标题"),
    ({"title": "标题", "body": ""}, "请填写内容"),
    ({"title": "长" * 201, "body": "内容"}, "标题不能超过200个字"),
])
def test_notice_form_errors(as_role, data, message):
    centre = as_role("centre")
    before = AuditLog.select().count()
    response = centre.post("/notices/new", data=data)
    assert response.status_code == 422
    assert message in [p.get_text(strip=True) for p in soup(response).select(".field-error")]
    assert Notice.select().count() == 0
    assert AuditLog.select().count() == before


@pytest.mark.parametrize("role", ["grassroots", "secondary", "district", "city"])
def test_only_the_centre_publishes(client, as_role, role):
    item = notice("已发布的通知")
    other = as_role(role)
    before = AuditLog.select().count()
    response = other.post("/notices/new", data={"title": "越权通知", "body": "内容"})
    assert response.status_code == 403
    assert refusal(response) == "您的账号无权使用此功能"
    assert other.get("/notices/new").status_code == 403
    assert other.post(f"/notices/{item.id}/edit", data={"title": "改", "body": "改"}).status_code == 403
    assert other.post(f"/notices/{item.id}/withdraw").status_code == 403
    assert not Notice.select().where(Notice.title == "越权通知").exists()
    assert Notice.get_by_id(item.id).title == "已发布的通知" and Notice.get_by_id(item.id).published
    assert AuditLog.select().count() == before
    assert soup(other.get("/notices/")).find("a", string="发布通知") is None


def test_publishing_needs_a_login(client):
    response = client.post("/notices/new", data={"title": "匿名通知", "body": "内容"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert Notice.select().count() == 0


@pytest.mark.parametrize("kind", ["notice", "download"])
def test_withdrawing_twice_does_not_write_a_false_audit_row(as_role, kind):
    """A second 撤回 (double click, stale page) must not log a 已发布 → 已撤回 change that did not
    happen: it is refused like 停用 of an already disabled account."""
    centre = as_role("centre")
    item = notice() if kind == "notice" else factories.make_download()
    base = f"/notices/{item.id}" if kind == "notice" else f"/downloads/{item.id}"
    assert centre.post(f"{base}/withdraw").status_code == 302
    response = centre.post(f"{base}/withdraw")
    assert [row[0] for row in audit(item)] == ["撤回通知" if kind == "notice" else "撤回文件"]
    assert response.status_code == 409
    assert "已撤回" in refusal(response)


# --- 下载中心 ----------------------------------------------------------------------------------
def test_centre_uploads_a_pdf_and_the_public_downloads_it(app, client, city, as_role):
    centre = as_role("centre")
    form = soup(centre.get("/downloads/new"))
    assert [o.get_text() for o in form.select("#category option")] == ["操作说明", "模板", "其他"]
    before = stored_files(app)

    response = upload(centre, PDF, "参保操作手册（2026版）.pdf")
    assert response.status_code == 302 and response.headers["Location"] == "/downloads/"
    assert "文件已上传到下载中心" in flashes(centre.get("/downloads/"))
    item = Download.get(Download.title == "参保操作手册")
    assert (item.filename, item.size, item.category, item.content_type) == (
        "参保操作手册（2026版）.pdf", len(PDF), "操作说明", "application/pdf")
    assert audit(item) == [("上传下载文件", "", "已发布")]

    # Stored in STORAGE_DIR/downloads under a random name, not under static/.
    new_files = stored_files(app) - before
    assert new_files == {item.stored_name}
    assert item.stored_name.endswith(".pdf") and "参保" not in item.stored_name
    assert (downloads_dir(app) / item.stored_name).read_bytes() == PDF
    assert not list((ROOT / "static").rglob(item.stored_name))
    assert not Path(app.config["STORAGE_DIR"]).resolve().is_relative_to((ROOT / "static").resolve())
    assert client.get(f"/static/{item.stored_name}").status_code == 404
    assert client.get(f"/static/downloads/{item.stored_name}").status_code == 404

    listing = soup(client.get("/downloads/"))
    link = listing.find("a", string="参保操作手册")
    assert link["href"] == f"/downloads/{item.id}"
    assert listing.find("button") is None  # no 撤回 for the public

    download = client.get(link["href"])
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote('参保操作手册（2026版）.pdf')}" in disposition


@pytest.mark.parametrize("data,filename,message", [
    (b"just some text, not a PDF at all", "说明.pdf", NOT_ALLOWED),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50, "安装程序.exe", NOT_ALLOWED),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50, "伪装的手册.pdf", NOT_ALLOWED),
    (b"<html><script>alert(1)</script></html>", "page.html", NOT_ALLOWED),
    (PDF, "手册.xlsx", "文件内容与扩展名“.xlsx”不符"),
    (XLSX, "表格.pdf", "文件内容与扩展名“.pdf”不符"),
    (PDF, "没有扩展名", "文件内容与扩展名“无”不符"),
])
def test_a_file_whose_content_does_not_match_is_refused_and_not_stored(app, client, as_role, data, filename,
                                                                        message):
    centre = as_role("centre")
    before_files = stored_files(app)
    before_audit = AuditLog.select().count()
    response = upload(centre, data, filename)
    assert response.status_code == 422
    assert soup(response).select_one(".alert-error").get_text(strip=True) == message
    assert Download.select().count() == 0
    assert stored_files(app) == before_files
    assert AuditLog.select().count() == before_audit
    assert titles(client.get("/downloads/")) == []


@pytest.mark.parametrize("data,filename,stored_suffix", [
    (XLSX, "会员导入模板.xlsx", ".xlsx"),
    (XLSX, "资料.ZIP", ".zip"),
    (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 50, "旧版模板.xls", ".xls"),
    (PDF, "大写扩展名.PDF", ".pdf"),
])
def test_office_and_zip_files_are_accepted(app, client, as_role, data, filename, stored_suffix):
    response = upload(as_role("centre"), data, filename, category="模板")
    assert response.status_code == 302
    item = Download.get(Download.filename == filename)
    assert item.stored_name.endswith(stored_suffix)
    assert client.get(f"/downloads/{item.id}").data == data


def test_upload_without_a_file_is_refused(app, as_role):
    before = stored_files(app)
    response = as_role("centre").post("/downloads/new", content_type="multipart/form-data",
                                      data={"title": "空文件", "category": "其他"})
    assert response.status_code == 422
    assert soup(response).select_one(".alert-error").get_text(strip=True) == "请选择要上传的文件"
    empty = upload(as_role("centre"), b"", "空.pdf")
    assert empty.status_code == 422
    assert Download.select().count() == 0
    assert stored_files(app) == before


def test_upload_needs_a_title(app, as_role):
    before = stored_files(app)
    response = upload(as_role("centre"), PDF, "手册.pdf", title="")
    assert response.status_code == 422
    assert "请填写名称" in [p.get_text(strip=True) for p in soup(response).select(".field-error")]
    assert Download.select().count() == 0
    assert stored_files(app) == before


def test_withdrawn_file_is_404_to_the_public_and_republishing_restores_it(client, as_role):
    centre = as_role("centre")
    upload(centre, PDF, "操作手册.pdf", title="操作手册")
    item = Download.get(Download.title == "操作手册")

    response = centre.post(f"/downloads/{item.id}/withdraw")
    assert response.status_code == 302 and response.headers["Location"] == "/downloads/"
    assert client.get(f"/downloads/{item.id}").status_code == 404
    assert titles(client.get("/downloads/")) == []
    grassroots = as_role("grassroots")
    assert grassroots.get(f"/downloads/{item.id}").status_code == 404
    assert titles(grassroots.get("/downloads/")) == []

    # The centre still sees (and can fetch) it, marked 已撤回.
    row = soup(centre.get("/downloads/")).select_one("table.grid tbody tr")
    assert "已撤回" in row.get_text() and row.find("button").get_text(strip=True) == "重新发布"
    assert centre.get(f"/downloads/{item.id}").data == PDF

    assert centre.post(f"/downloads/{item.id}/publish").status_code == 302
    assert client.get(f"/downloads/{item.id}").data == PDF
    assert audit(item) == [("上传下载文件", "", "已发布"), ("撤回文件", "已发布", "已撤回"),
                           ("重新发布文件", "已撤回", "已发布")]


@pytest.mark.parametrize("role", ["grassroots", "district", "city"])
def test_only_the_centre_uploads_or_withdraws_files(app, client, as_role, role):
    item = factories.make_download()
    other = as_role(role)
    before = stored_files(app)
    assert other.get("/downloads/new").status_code == 403
    response = upload(other, PDF, "越权.pdf")
    assert response.status_code == 403
    assert refusal(response) == "您的账号无权使用此功能"
    assert other.post(f"/downloads/{item.id}/withdraw").status_code == 403
    assert stored_files(app) == before
    assert Download.select().count() == 1
    assert Download.get_by_id(item.id).published is True
    assert client.get(f"/downloads/{item.id}").status_code == 200


def test_a_download_whose_file_is_missing_is_404(app, client):
    item = factories.make_download()
    (downloads_dir(app) / item.stored_name).unlink()
    assert client.get(f"/downloads/{item.id}").status_code == 404


def test_unknown_download_is_404(client):
    assert client.get("/downloads/999999").status_code == 404


@pytest.mark.parametrize("filename", ["手册\x00.pdf", "\x00.pdf", "手册.pdf\x00.exe"])
def test_a_nul_in_an_uploaded_file_name_is_refused_in_chinese(app, as_role, filename):
    """A NUL in the uploaded file's name is refused like a NUL anywhere (PostgreSQL cannot store
    it: a 500 before); nothing is stored."""
    before = stored_files(app)
    response = upload(as_role("centre"), PDF, filename)
    assert response.status_code == 400
    assert "无效字符" in response.get_data(as_text=True)
    assert Download.select().count() == 0 and stored_files(app) == before
