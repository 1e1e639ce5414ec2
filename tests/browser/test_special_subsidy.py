"""特殊补贴单位 in a real browser, JavaScript on and off (issue 16 item 10): ticking a district shows
every split it changes before saving; 确认保存 saves the tick and the rebalanced splits."""

from datetime import date

from playwright.sync_api import expect

from models.base import today
from models.enroll import plans
from models.enroll.plans import FeeSplit
from models.orgs.organizations import Organization
from tests.browser.helpers import log_in


def ready_year(city):
    """Next year's types with consistent splits of both districts (district part = fee − subsidy)."""
    y = plans.create_year(today().year + 1)
    for d in ("district1", "district2"):
        for t in plans.types_of(y):
            FeeSplit.create(org=city.orgs[d], type=t, district_part=t.full_fee - t.subsidy_full, grassroots_part=0,
                            valid_from=plans.day_start(date(y.year, 1, 1)),
                            valid_to=plans.day_end(date(y.year, 12, 31)))
    return y


def test_ticking_a_district_confirms_the_split_changes_first(page, city):
    year = ready_year(city)
    district = city.orgs["district1"]
    a = plans.types_of(year)[0]
    log_in(page, city.account("centre"))
    page.goto("/plans/special")
    expect(page.locator("#rebalance-rule")).to_contain_text("区局/各级工会默认缴纳随之调整（承担差额）")
    page.get_by_label(district.name).check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认保存特殊补贴单位")
    expect(page.locator("#flag-changes")).to_contain_text(f"{district.name}：否 → 是")
    expect(page.locator("#split-changes tbody tr").first).to_contain_text("13元 → 19.5元")
    assert not Organization.get_by_id(district.id).special_subsidy
    page.get_by_role("button", name="确认保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存特殊补贴单位；已调整4项保障金额设置")
    expect(page.get_by_label(district.name)).to_be_checked()
    assert Organization.get_by_id(district.id).special_subsidy
    assert FeeSplit.get((FeeSplit.org == district.id) & (FeeSplit.type == a.id)).district_part == 1950
