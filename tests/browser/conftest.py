"""Browser tests: the real app served from a thread, driven by Playwright on Debian's
Chromium, every test once with JavaScript on ("js") and once off ("nojs").

SQLite only (the live server shares the test session's database through threads); on
PostgreSQL the whole directory is skipped. Without /usr/bin/chromium the tests skip, except on
CI (CI=true) where that is a failure.
"""

import os
import threading
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, TEST_CONFIG

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL skip this directory before any fixture (database, server) is set up."""
    if not ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="浏览器测试只在 SQLite 上运行（TEST_DATABASE_URL 已设置）")
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_app(app):
    """The app the browser talks to (CSRF on, sharing the session's database); a test may switch
    a setting of its config for its own run (the login captcha) and put it back."""
    from app import create_app
    return create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, CONNECT_DB=False,
                           STORAGE_DIR=os.environ["STORAGE_DIR"]))


@pytest.fixture(scope="session")
def live_server(live_app):
    """Base URL of live_app served in a thread.

    werkzeug's threaded server rather than waitress: it shuts down cleanly from another
    thread (serve_forever / shutdown), so the session ends without a stray thread error."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"找不到 {CHROMIUM}（apt-get install -y chromium fonts-wqy-microhei）"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request):
    """JavaScript on or off; every browser test runs both ways."""
    return request.param


@pytest.fixture
def page(browser, live_server, committed, js):
    """A fresh browser context (no cookies) per test; closed before the tables are emptied."""
    context = browser.new_context(base_url=live_server, java_script_enabled=js, locale="zh-CN",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()

