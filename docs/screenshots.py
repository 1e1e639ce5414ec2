"""Screenshots for the README and the docs: docs/screenshots/*.png.

    .venv/bin/python docs/screenshots.py        (or: .venv/bin/python -m docs.screenshots)

Builds a throwaway SQLite database with the demo data (DEMO_PASSWORD, default Demo-pass-1),
serves the app from a thread on a free local port, and photographs it with Playwright on
Debian's Chromium (/usr/bin/chromium, or CHROMIUM=path) at 1280×800, plus 首页 at 1024 px.
Nothing outside the temporary directory and docs/screenshots/ is touched.
"""

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def build_app(tmp: Path, password: str):
    os.environ["INSTANCE_PATH"] = str(tmp)  # read by create_app: secret key, storage
    sys.path.insert(0, str(ROOT))
    from app import create_app, upgrade_database
    from models.demo import load_demo

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'demo.db'}", "LOGIN_CAPTCHA": False,
                      "JOBS_MODE": "immediate", "STORAGE_DIR": str(tmp / "storage")})
    with app.app_context():
        upgrade_database()
        load_demo(password=password)
    return app


def serve(app):
    """Serve the app from a thread; returns (base URL, server) — server.shutdown() stops it."""
    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def shoot(base: str, password: str) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []

    def save(page, name):
        path = OUT / name
        page.screenshot(path=str(path))
        written.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def session(username, width=1280):
            context = browser.new_context(base_url=base, locale="zh-CN",
                                          viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("账号").fill(username)
            page.get_by_label("密码").fill(password)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/home")
            return context, page

        context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/login")
        save(page, "login.png")
        context.close()

        # 基层工会: 修改信息 — one saved change, so the log has something to show.
        context, page = session("grassroots")
        page.locator("nav.sidemenu").get_by_role("link", name="修改信息").click()
        page.get_by_label("联系电话").fill("13800000011")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_role("status")).to_have_text("修改成功")
        save(page, "org-edit.png")
        context.close()

        context, page = session("district")
        save(page, "home-district.png")
        context.close()

        # 会员管理: the roster, the add form, 会员转出审核 (a transfer waits for 新世界百货)
        context, page = session("grassroots")
        page.locator("nav.sidemenu").get_by_role("link", name="会员信息").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("会员信息")
        save(page, "members.png")
        page.goto("/members/new")
        save(page, "member-new.png")
        page.goto("/members/transfers")
        save(page, "member-transfers.png")
        page.goto("/members/sync")
        save(page, "member-sync.png")
        page.goto("/members/import")
        save(page, "member-import.png")
        context.close()

        # 会员服务卡管理: the card list, the 待办会员列表 (two rows fail), a batch, for the centre the batches
        context, page = session("grassroots")
        page.goto("/cards/")
        save(page, "cards.png")
        page.goto("/cards/pending")
        save(page, "card-pending.png")
        page.goto("/enroll/social/central")
        save(page, "social-central.png")
        page.goto("/enroll/card/central")
        save(page, "enroll-central.png")
        context.close()
        context, page = session("centre")
        page.goto("/cards/batches")
        save(page, "card-batches.png")
        context.close()
        context, page = session("district")
        page.goto("/plans/split")
        save(page, "plans-split.png")
        page.goto("/review/central")
        save(page, "review-queue.png")
        page.goto("/batches/")
        save(page, "district-batches.png")
        context.close()
        context, page = session("secondary")
        page.goto("/review/central")
        save(page, "review-queue-secondary.png")
        context.close()

        context, page = session("district2")
        page.goto("/members/approvals")
        save(page, "member-approvals.png")
        context.close()

        context, page = session("district", width=1024)
        save(page, "home-1024.png")
        context.close()

        context, page = session("admin")
        page.locator("nav.sidemenu").get_by_role("link", name="操作日志").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("操作日志")
        save(page, "audit.png")
        context.close()

        browser.close()
    return written


def main() -> None:
    if not Path(CHROMIUM).exists():
        sys.exit(f"找不到 Chromium：{CHROMIUM}（apt-get install -y chromium fonts-wqy-microhei）")
    password = os.environ.get("DEMO_PASSWORD") or "Demo-pass-1"
    with tempfile.TemporaryDirectory(prefix="union-screenshots-") as tmp:
        app = build_app(Path(tmp), password)
        base, server = serve(app)
        try:
            for path in shoot(base, password):
                print(path.relative_to(ROOT))
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
