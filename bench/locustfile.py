"""Locust scenario of the load test (spec 05: 50 virtual users, 1 s think time, 80 % reads /
20 % writes). Run through bench/load.py (`make bench-load`), which serves the benchmark city with
waitress and passes the accounts in LOAD_ACCOUNTS (a JSON file written by load.py):

- grassroots operators (weight 2; the ten 5,000-member unions): 会员信息 list, 会员卡参保信息管理
  /enroll/card, 首页 — and 20 % writes: 修改信息 (POST /orgs/mine/edit, the contact person
  changed back and forth; name and codes unchanged, so it saves directly);
- district reviewers (weight 2; the district with the 2,000-row queue): 集中参保审核, 参保批次管理,
  首页 — and 30 % writes: → 添加至待提交 / ← 移除 of a union of its own (each virtual user owns one
  union of the queue, so users never race for a row; the key is the same in both panes);
- the centre (weight 1): 参保批次管理 参保审核中, all batches, 缴费凭证管理, 首页 — reads only.

Users 20 / 20 / 10 → about 20 % of the requests are writes. CSRF is on: every form's csrf_token
is scraped from the page. Logins (scrypt, ≈ 0.3 s of CPU each, by design) are named "POST /login".
With LOAD_SETTLE=s (bench/load.py sets it) the statistics are reset s seconds after the last user
has started — the sustained load is measured after the logins — and the logins' own figures are
written to LOAD_LOGINS first, so they are reported apart.
"""

import itertools
import json
import os
import random
from html.parser import HTMLParser

from locust import HttpUser, constant, events, task

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8").read())
PASSWORD = ACCOUNTS["password"]
THINK = float(os.environ.get("LOAD_THINK", "1"))
_grassroots = itertools.cycle(ACCOUNTS["grassroots"])
_unions = iter(ACCOUNTS["queue_unions"])


_environment = {}


@events.init.add_listener
def _keep(environment, **_kwargs):
    _environment["env"] = environment


_ready = {"users": None, "started": 0}  # users spawned; users whose on_start (login) has finished


@events.spawning_complete.add_listener
def _spawned(user_count, **_kwargs):
    _ready["users"] = user_count
    _maybe_measure()


def user_ready() -> None:
    """The end of a user's on_start (its login): once every user is in, the window opens."""
    _ready["started"] += 1
    _maybe_measure()


def _maybe_measure() -> None:
    """LOAD_SETTLE s after the last login the statistics are reset (the logins' own figures written
    to LOAD_LOGINS first): what remains is the sustained load."""
    settle = float(os.environ.get("LOAD_SETTLE", "0"))
    if settle <= 0 or _ready["users"] is None or _ready["started"] != _ready["users"]:
        return
    import gevent

    def reset():
        stats = _environment["env"].runner.stats
        logins = {}
        for (name, method), entry in list(stats.entries.items()):
            if "/login" in name:
                logins[f"{method} {name}"] = {
                    "requests": entry.num_requests, "failures": entry.num_failures,
                    "median": entry.median_response_time, "p95": entry.get_response_time_percentile(0.95),
                    "max": entry.max_response_time}
        with open(os.environ["LOAD_LOGINS"], "w", encoding="utf-8") as out:
            json.dump(logins, out, ensure_ascii=False)
        stats.reset_all()
    gevent.spawn_later(settle, reset)


class Inputs(HTMLParser):
    """name → value of the <input>s of a page (the first of each name), and every key checkbox."""

    def __init__(self):
        super().__init__()
        self.values: dict = {}
        self.keys: list = []

    def handle_starttag(self, tag, attrs):
        if tag != "input":
            return
        a = dict(attrs)
        if a.get("name") == "key":
            self.keys.append(a.get("value"))
        elif a.get("name"):
            self.values.setdefault(a["name"], a.get("value") or "")


def inputs(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


class Base(HttpUser):
    abstract = True
    wait_time = constant(THINK)
    username = ""

    def login(self, username: str) -> None:
        page = self.client.get("/login", name="GET /login")
        token = inputs(page.text).values.get("csrf_token", "")
        with self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                              name="POST /login", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login {username}: {r.status_code}")
        self.username = username

    def read(self, url: str, name: str | None = None):
        with self.client.get(url, name=name or url, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            elif "/login" in r.url:
                r.failure("logged out")
            return r

    def post(self, url: str, data: dict, name: str):
        with self.client.post(url, data=data, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code not in (302, 303, 204):
                r.failure(f"{r.status_code}: {r.text[:200]}")
            return r


class Grassroots(Base):
    weight = 2

    def on_start(self):
        self.login(next(_grassroots))
        self.form = inputs(self.read("/orgs/mine/edit", "GET /orgs/mine/edit").text).values
        self.flip = False
        user_ready()

    @task(3)
    def members(self):
        self.read("/members/", "GET /members/")

    @task(3)
    def enroll_card(self):
        self.read("/enroll/card", "GET /enroll/card")

    @task(2)
    def home(self):
        self.read("/home", "GET /home")

    @task(2)
    def edit(self):
        self.flip = not self.flip
        data = {k: self.form.get(k, "") for k in ("csrf_token", "name", "uscc", "union_no", "address", "phone")}
        data["contact"] = "基准联系人乙" if self.flip else "基准联系人甲"
        data["phone"] = data["phone"] or "021-63210000"
        self.post("/orgs/mine/edit", data, "POST /orgs/mine/edit")


class District(Base):
    weight = 2

    def on_start(self):
        self.login(ACCOUNTS["district"])
        self.union = next(_unions)
        page = self.read(f"/review/central?p_name={self.union}", "GET /review/central?p_name=…").text
        found = inputs(page)
        self.csrf = found.values.get("csrf_token", "")
        self.queued = False
        self.key = found.keys[0] if found.keys else None
        if self.key is None:  # left in 待提交 by an interrupted run
            found = inputs(self.read(f"/review/central?q_search={self.union}", "GET /review/central?q_search=…").text)
            self.key, self.queued = (found.keys[0] if found.keys else None), True
        user_ready()

    @task(3)
    def queue(self):
        self.read("/review/central", "GET /review/central")

    @task(2)
    def queue_page(self):
        self.read(f"/review/central?p_page={random.randint(2, 100)}", "GET /review/central?p_page=n")

    @task(1)
    def batches(self):
        self.read("/batches/", "GET /batches/")

    @task(1)
    def home(self):
        self.read("/home", "GET /home")

    @task(3)
    def toggle(self):
        if self.key is None:
            return
        if self.queued:
            self.post("/review/central/remove", {"key": self.key, "csrf_token": self.csrf},
                      "POST /review/central/remove")
        else:
            self.post("/review/central/add", {"key": self.key, "csrf_token": self.csrf}, "POST /review/central/add")
        self.queued = not self.queued


class Centre(Base):
    weight = 1

    def on_start(self):
        self.login(ACCOUNTS["centre"])
        user_ready()

    @task(3)
    def incoming(self):
        self.read("/batches/?status=" + "参保审核中", "GET /batches/?status=参保审核中")

    @task(2)
    def batches(self):
        self.read(f"/batches/?page={random.randint(1, 50)}", "GET /batches/?page=n")

    @task(1)
    def vouchers(self):
        self.read("/batches/vouchers", "GET /batches/vouchers")

    @task(2)
    def home(self):
        self.read("/home", "GET /home")
