"""The workflow engine: every (state, action) pair of each table, stale pages, and a race of
two threads on committed data (SQLite and PostgreSQL)."""

import pytest

from models.base import DomainError
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job
from models.workflow import Workflow, transition
from tests import factories
from tests.workflow_helpers import (
    audit_rows,
    check_every_pair,
    check_stale_object_refused,
    race_transition,
    state_in_db,
)


def job_factory(org):
    return lambda state: Job.create(org=org, kind="audit_export", title="导出操作日志", status=state)


def test_job_workflow_every_state_action_pair(city):
    org = city.orgs["district1"]
    account = city.accounts["district"][0]
    allowed, forbidden = check_every_pair(Job, job_factory(org), account=account)
    states, actions = len(Job.WORKFLOW.states), len(Job.WORKFLOW.action_names)
    assert allowed + forbidden == states * actions == 4 * 5


def test_actions_needing_a_reason_are_refused_without_one(city, monkeypatch):
    """The engine's 须填写原因 rule, driven through the same helper with a table that has one."""
    table = dict(Job.WORKFLOW.transitions)
    monkeypatch.setattr(Job, "WORKFLOW", Workflow(
        "status", table, actions=dict(Job.WORKFLOW.actions, fail="退回"),
        needs_reason=frozenset({"fail"})))
    check_every_pair(Job, job_factory(city.orgs["district1"]), reason="材料不全")


def test_refusal_names_state_and_action_in_chinese(city):
    job = job_factory(city.orgs["district1"])(DONE)
    with pytest.raises(DomainError) as refused:
        transition(job, "start")
    assert refused.value.message == "当前状态为「已完成」，不能执行「开始任务」"
    assert refused.value.status == 409


def test_unknown_action_is_refused_and_changes_nothing(city):
    job = job_factory(city.orgs["district1"])(QUEUED)
    with pytest.raises(DomainError):
        transition(job, "delete-everything")
    assert state_in_db(job) == QUEUED
    assert audit_rows(job) == []


def test_extra_updates_are_written_in_the_same_step(city):
    job = job_factory(city.orgs["district1"])(QUEUED)
    moved = transition(job, "start", updates={"attempts": 3})
    assert (moved.status, moved.attempts) == (RUNNING, 3)


def test_a_stale_page_cannot_move_an_object_someone_else_moved(city):
    job = job_factory(city.orgs["district1"])(RUNNING)
    # Loaded as 运行中; meanwhile another worker failed it; our "finish" must not overwrite that.
    check_stale_object_refused(job, "finish", moved_by_other_to=FAILED)


def test_two_threads_racing_one_transition_exactly_one_wins(committed):
    org = factories.make_org(None, "市总工会", name="竞争测试市总工会")
    for _round in range(3):
        job = Job.create(org=org, kind="audit_export", title="导出操作日志", status=QUEUED)
        outcomes = race_transition(Job, job.id, "start")
        assert outcomes.count("ok") == 1, outcomes
        loser = [o for o in outcomes if o != "ok"]
        assert loser == ["该记录的状态已被他人修改，请刷新页面后重试"], outcomes
        assert state_in_db(job) == RUNNING
        rows = audit_rows(job)
        assert [(r.from_state, r.to_state) for r in rows] == [(QUEUED, RUNNING)]


def test_many_threads_racing_still_one_winner(committed):
    org = factories.make_org(None, "市总工会", name="竞争测试市总工会")
    job = Job.create(org=org, kind="audit_export", title="导出操作日志", status=QUEUED)
    outcomes = race_transition(Job, job.id, "start", threads=6)
    assert outcomes.count("ok") == 1, outcomes
    assert len(audit_rows(job)) == 1
