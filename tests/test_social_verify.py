"""① 获取社保卡和就业状态 (issue 9): the background verification — per-person results with the time
checked, routing that follows them, a second click joining the running job, resuming after the
worker was killed (nothing asked twice), the HTTP provider end to end and an unreachable one."""

from datetime import date

import pytest

from models import jobs
from models.base import DomainError
from models.enroll import social_enroll as social
from models.enroll import status_provider
from models.enroll.enrollment import StatusRecord
from models.enroll.social_enroll import SocialCheck
from models.jobs import Job
from tests import factories
from tests.factories.enroll import ready_year
from tools.status_server import DatabaseRegistry, Server, make_app


def registry_member(org, card="正常", employment="在职", known=True):
    m = factories.make_member(org)
    if known:
        StatusRecord.create(id_number=m.person.id_number, name=m.person.name, card_status=card,
                            employment=employment, insurance="已缴纳", status_date=date(2026, 11, 1))
    return m.person


class Counting(status_provider.RegistryProvider):
    """The real registry provider, counting what it is asked; `die_on` simulates the worker being
    killed (a BaseException the job runner does not catch) on that call."""

    def __init__(self, batch_size=3, die_on=None):
        super().__init__(batch_size=batch_size)
        self.asked, self.calls, self.die_on = [], 0, die_on

    def lookup_batch(self, id_numbers):
        self.calls += 1
        if self.calls == self.die_on:
            raise KeyboardInterrupt("worker killed")
        self.asked.extend(id_numbers)
        return super().lookup_batch(id_numbers)


def test_verification_records_each_person_and_routing_follows(city, monkeypatch):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    ready = registry_member(union)
    sealed = registry_member(union, card="封存")
    unclear = registry_member(union, employment="不明确")
    retired = registry_member(union, employment="退休")
    unknown = registry_member(union, known=False)
    assert social.screen(union, year).sets["verify"] == {ready.id, sealed.id, unclear.id, retired.id, unknown.id}
    job, started = social.start_check(union, year, city.account("grassroots"))
    assert started and Job.get_by_id(job.id).status == "已完成"  # JOBS_MODE=immediate in tests
    s = social.screen(union, year)
    assert (s.sets["ready"], s.sets["verify"], s.sets["pending"], s.sets["retired"]) == (
        {ready.id}, {sealed.id, unknown.id}, {unclear.id}, {retired.id})
    check = SocialCheck.get(SocialCheck.person == unknown.id)
    assert check.reason == "社保系统中没有该证件号码的记录" and check.checked_at and check.job_id == job.id
    assert "已获取5人" in Job.get_by_id(job.id).result_data["summary"]
    with pytest.raises(DomainError, match="没有待校验的人员"):
        social.start_check(city.orgs["direct1"], year, city.account("grassroots", 2))


def test_a_second_click_while_it_runs_joins_the_same_job(city):
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    registry_member(union)
    jobs.init_queue("", mode="memory")  # the job stays queued, as behind a busy worker
    try:
        first, started = social.start_check(union, year, city.account("grassroots"))
        again, started_again = social.start_check(union, year, city.account("grassroots"))
    finally:
        jobs.init_queue("", mode="immediate")
    assert started and not started_again and again.id == first.id
    assert Job.select().where(Job.kind == "social_verify").count() == 1
    assert first.progress_total == 1 and first.status == "排队中"


def test_a_killed_verification_resumes_after_the_last_saved_batch(committed, monkeypatch):
    city = factories.make_city()
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    people = [registry_member(union) for _ in range(7)]
    dying = Counting(batch_size=3, die_on=2)
    monkeypatch.setattr(status_provider, "provider_from_config", lambda config=None: dying)
    jobs.init_queue("", mode="memory")
    try:
        job, _ = social.start_check(union, year, city.account("grassroots"))
        with pytest.raises(KeyboardInterrupt):
            jobs.run_job(job.id)  # the worker dies during the second batch
        killed = Job.get_by_id(job.id)
        assert killed.status == "运行中" and killed.progress_done == 3
        assert SocialCheck.select().count() == 3  # the first batch was saved with its checkpoint
        fresh = Counting(batch_size=3)
        monkeypatch.setattr(status_provider, "provider_from_config", lambda config=None: fresh)
        assert jobs.sweep_interrupted() == [job.id]  # the worker starts again
        jobs.run_job(job.id)
    finally:
        jobs.init_queue("", mode="immediate")
    assert Job.get_by_id(job.id).status == "已完成"
    assert fresh.asked == [p.id_number for p in people[3:]]  # nothing asked twice
    assert SocialCheck.select().count() == 7
    assert social.screen(union, year).sets["ready"] == {p.id for p in people}


def test_the_http_provider_end_to_end_and_an_unreachable_one(committed, monkeypatch):
    """The reference server reads the registry table on its own connection: committed data."""
    city = factories.make_city()
    year = ready_year(city)
    union = city.orgs["grassroots1"]
    ok = registry_member(union)
    registry_member(union, card="挂失")
    with Server(make_app(DatabaseRegistry(), token="s3cret")) as url:
        monkeypatch.setattr(status_provider, "provider_from_config",
                            lambda config=None: status_provider.HttpProvider(url, timeout=5, batch_size=1,
                                                                             auth_header="Bearer s3cret"))
        social.start_check(union, year, city.account("grassroots"))
    assert social.screen(union, year).sets["ready"] == {ok.id}
    late = registry_member(union)
    monkeypatch.setattr(status_provider, "provider_from_config",
                        lambda config=None: status_provider.HttpProvider("http://127.0.0.1:9", timeout=1))
    job, _ = social.start_check(union, year, city.account("grassroots"))
    check = SocialCheck.get(SocialCheck.person == late.id)
    assert check.card_status == "不明确" and "请稍后重试" in check.reason
    assert late.id in social.screen(union, year).sets["verify"]  # asked again at the next click
    assert Job.get_by_id(job.id).result_data["summary"].endswith("其中2人查询失败（不明确），可稍后重新获取")
