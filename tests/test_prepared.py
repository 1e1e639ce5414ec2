"""models.base.Prepared: a query composed once answers for every set of values as the query
itself would (the account every request loads, 消息提醒's badge)."""

import pytest

from app import load_account
from models import messages
from models.base import Prepared
from models.orgs.accounts import Account
from models.orgs.organizations import Organization
from tests import factories


def test_each_call_answers_for_its_own_values(city):
    accounts = [city.account("grassroots", 0), city.account("district", 0), city.account("city", 0)]
    by_id = Prepared(lambda i: Account.select(Account, Organization).join(Organization)
                     .where(Account.id == i).limit(1), 1)
    for account in accounts:
        found = by_id.first(account.id)
        assert (found.id, found.username, found.org.name) == (account.id, account.username, account.org.name)
    assert by_id.first(-1) is None


def test_the_badge_count_equals_the_unread_list_for_each_account(city):
    org = city.orgs["grassroots1"]
    first, second = city.account("grassroots", 0), factories.make_account(org)
    messages.post(org, "全单位通知")
    messages.post(org, "给本人的消息", account=first)
    for account in (first, second):
        assert messages.unread_count(account) == messages.unread(account).count()
    assert (messages.unread_count(first), messages.unread_count(second)) == (2, 1)
    messages.mark_read(first)
    assert (messages.unread_count(first), messages.unread_count(second)) == (0, 1)


def test_a_stale_session_version_loads_no_account(city):
    account = city.account("grassroots", 0)
    assert load_account(f"{account.id}:{account.session_version}").org.id == account.org_id
    assert load_account(f"{account.id}:{account.session_version + 1}") is None
    assert load_account("x:1") is None


def test_a_value_the_query_does_not_use_is_refused():
    unused = Prepared(lambda i, j: Account.select().where(Account.id == i), 2)
    with pytest.raises(ValueError):
        unused.first(1, 2)
