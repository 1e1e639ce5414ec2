"""集中参保审核 / 即时参保审核 show the submissions of their own kind (the page once passed the
URL's "central" where the model expects "集中参保", and the centralized queue showed the instant
submissions instead)."""

from datetime import datetime

import time_machine

from models.enroll import plans
from models.enroll.enrollment import Submission
from tests.helpers import soup


def _submit(org, mode, year):
    return Submission.create(org=org, year=year, channel="会员卡参保", mode=mode, type=year.types[0], count=1,
                             fee=2600, status="区局确认中")


@time_machine.travel(datetime(2026, 11, 15, 10, 0), tick=False)
def test_each_queue_shows_its_own_kind(city, as_role):
    central, instant = city.orgs["grassroots1"], city.orgs["direct1"]
    _submit(central, "集中参保", plans.create_year(2027))  # the centralized season enrolls next year
    _submit(instant, "有卡无保", plans.create_year(2026))  # instant: this year
    district = as_role("district")
    page = district.get("/review/central").get_data(as_text=True)
    assert central.name in page and instant.name not in page
    assert "总共 1 条记录" in page
    page = district.get("/review/instant").get_data(as_text=True)
    assert instant.name in page and central.name not in page


def test_batch_list_names_each_district_for_the_centre(city, as_role):
    from tests.factories.review import make_batch
    make_batch(city.orgs["district1"])
    make_batch(city.orgs["district2"], status="已完成")
    page = as_role("centre").get("/batches/").get_data(as_text=True)
    assert f"<td>{city.orgs['district1'].name}</td>" in page and f"<td>{city.orgs['district2'].name}</td>" in page
    page = as_role("centre").get("/batches/?status=已完成").get_data(as_text=True)
    assert f"<td>{city.orgs['district2'].name}</td>" in page and f"<td>{city.orgs['district1'].name}</td>" not in page
    assert "总共 1 条记录" in as_role("district").get("/batches/").get_data(as_text=True)


@time_machine.travel(datetime(2026, 11, 15, 10, 0), tick=False)
def test_submit_is_offered_only_when_the_to_submit_list_has_something(city, as_role):
    """即时参保审核 (no window): with nothing in 待提交参保列表 the button is disabled with the reason, as
    集中参保审核 does outside its window, instead of a link to a refusal page."""
    year = plans.create_year(2026)
    sub = _submit(city.orgs["direct1"], "有卡无保", year)
    district = as_role("district")
    button = soup(district.get("/review/instant")).find(id="submit-button")
    assert button.name == "button" and button.has_attr("disabled")
    assert "待提交参保列表中没有参保信息" in district.get("/review/instant").get_data(as_text=True)
    Submission.update(queued_by=city.orgs["district1"], queued_level="区局(产业)").where(
        Submission.id == sub.id).execute()
    button = soup(district.get("/review/instant")).find(id="submit-button")
    assert button.name == "a" and button["href"] == "/review/instant/submit"
