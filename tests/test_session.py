"""A login ends for good: 退出 invalidates the session on the server (an old copy of the cookie
opens nothing, exports nothing and posts nothing, even with its CSRF token), and a session lasts
at most SESSION_MAX_HOURS however active it is."""

from datetime import datetime, timedelta

import pytest
import time_machine

from app import create_app
from models.orgs.organizations import Organization
from tests import factories
from tests.conftest import TEST_CONFIG
from tests.helpers import soup


@pytest.fixture
def csrf_app():
    return create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, CONNECT_DB=False))


def token_of(response) -> str:
    return soup(response).select_one("input[name=csrf_token]")["value"]


def log_in(client, account) -> None:
    token = token_of(client.get("/login"))
    response = client.post("/login", data={"username": account.username, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_an_old_cookie_replayed_after_logout_opens_nothing(csrf_app, city):
    account = city.account("grassroots")
    org = city.orgs["grassroots1"]
    factories.make_member(org)
    client = csrf_app.test_client()
    log_in(client, account)
    token = token_of(client.get("/orgs/mine/edit"))
    stolen = client.get_cookie("session").value
    assert client.get("/members/export").status_code == 200  # the cookie worked before 退出

    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"

    replay = csrf_app.test_client()
    replay.set_cookie("session", stolen)
    for url in ("/home", "/members/", "/members/export"):
        response = replay.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    response = replay.post("/orgs/mine/edit", data={"csrf_token": token, "name": org.name,
                                                     "contact": "冒用者", "phone": "13900000000"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert Organization.get_by_id(org.id).contact != "冒用者"
    # and the replays did not keep anything alive: logging in again works as usual
    log_in(client, account)
    assert client.get("/home").status_code == 200


def test_a_session_lasts_at_most_session_max_hours_however_active(app, city):
    assert app.config["SESSION_MAX_HOURS"] == 12
    start = datetime.now().astimezone()
    with time_machine.travel(start, tick=False) as traveller:
        client = app.test_client()
        factories.login(client, city.account("district"))
        step = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5)
        elapsed = timedelta()
        while elapsed + step < timedelta(hours=12):
            elapsed += step
            traveller.move_to(start + elapsed)
            assert client.get("/home").status_code == 200, elapsed  # active: never idle
        traveller.move_to(start + timedelta(hours=12, minutes=1))
        response = client.get("/home")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        page = client.get(response.headers["Location"])
        assert "登录已超过12小时，请重新登录" in page.get_data(as_text=True)
        factories.login(client, city.account("district"))  # a fresh login starts a fresh 12 hours
        assert client.get("/home").status_code == 200


def test_session_max_hours_is_configurable(app, city):
    app.config["SESSION_MAX_HOURS"] = 1
    try:
        start = datetime.now().astimezone()
        with time_machine.travel(start, tick=False) as traveller:
            client = app.test_client()
            factories.login(client, city.account("district"))
            traveller.move_to(start + timedelta(minutes=25))
            assert client.get("/home").status_code == 200
            traveller.move_to(start + timedelta(minutes=50))
            assert client.get("/home").status_code == 200
            traveller.move_to(start + timedelta(minutes=61))
            assert client.get("/home").status_code == 302
    finally:
        app.config["SESSION_MAX_HOURS"] = 12
