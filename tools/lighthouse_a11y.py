"""Lighthouse accessibility scores of every menu page of some accounts (issue 20 item 9).

    python tools/lighthouse_a11y.py http://127.0.0.1:5000 PASSWORD grassroots district centre

Logs in as each account (the server must run with LOGIN_CAPTCHA=off, e.g. a demo database), reads
its side menu (views/menu.py) and runs Lighthouse's accessibility category on each page with the
session cookie, on Debian's Chromium. Prints "score  account  path  failed audits" per page, then the
minimum; exits 1 when a page scores below --target. Lighthouse's default is a phone (412 px wide);
--width 1024 measures a desktop window that wide instead, --only PATH (repeatable) only those pages.
Lighthouse itself is an npm package run with npx (LIGHTHOUSE="npx --yes lighthouse@12" by default);
nothing of it is vendored or installed into the project. A development tool: not part of the test
suite (the suite runs axe-core itself).
"""

import argparse
import http.cookiejar
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = shlex.split(os.environ.get("LIGHTHOUSE", "npx --yes lighthouse@12"))


def session_for(base: str, username: str, password: str):
    """(cookie header, menu paths) of a logged-in account."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    home = opener.open(f"{base}/login", data=form).read().decode()
    menu = re.search(r'<nav class="sidemenu".*?</nav>', home, re.S)
    if menu is None:
        raise SystemExit(f"{username}: 登录失败（服务器须以 LOGIN_CAPTCHA=off 运行，密码是否正确？）")
    paths = list(dict.fromkeys(re.findall(r'<a href="([^"]+)"', menu.group(0))))
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, paths


def score(url: str, cookie: str | None, width: int | None = None) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        command = LIGHTHOUSE + [url, "--only-categories=accessibility", "--output=json", f"--output-path={out}",
                                "--quiet", "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                                "--locale=zh-CN"]
        if width:
            command += ["--form-factor=desktop", "--screenEmulation.mobile=false", f"--screenEmulation.width={width}",
                        "--screenEmulation.height=768", "--screenEmulation.deviceScaleFactor=1"]
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        subprocess.run(command, check=True, env=dict(os.environ, CHROME_PATH=CHROME))
        report = json.load(open(out, encoding="utf-8"))
    category = report["categories"]["accessibility"]
    failed = [ref["id"] for ref in category["auditRefs"]
              if ref["weight"] and report["audits"][ref["id"]]["score"] not in (None, 1)]
    return round(category["score"] * 100), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("password")
    parser.add_argument("accounts", nargs="+")
    parser.add_argument("--target", type=int, default=98)
    parser.add_argument("--width", type=int, help="a desktop window this wide (default: Lighthouse's phone)")
    parser.add_argument("--only", action="append", help="only this page (repeatable; /login included)")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    results = []
    if not args.only or "/login" in args.only:
        results.append(("-", "/login", *score(f"{base}/login", None, args.width)))
        print(*results[-1][2:3], "-", "/login", " ".join(results[-1][3]), flush=True)
    for account in args.accounts:
        cookie, paths = session_for(base, account, args.password)
        for path in paths:
            if args.only and path not in args.only:
                continue
            results.append((account, path, *score(base + path, cookie, args.width)))
            print(results[-1][2], account, path, " ".join(results[-1][3]), flush=True)
    low = min(r[2] for r in results)
    print(f"min {low}, median {statistics.median(r[2] for r in results):g} over {len(results)} pages"
          f" (target {args.target})")
    return 0 if low >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
