"""The workflow engine: every (state, action) pair of each table — one object at a time and in
bulk —, stale pages, and a race of two threads on committed data (SQLite and PostgreSQL)."""

import pytest

from models.audit import AuditLog
from models.base import DomainError
from models.jobs import DONE, FAILED, QUEUED, RUNNING, Job
from models.workflow import Workflow, bulk_transition, transition
from tests import factories
from tests.workflow_helpers import (
    audit_rows,
    check_bulk_stale_refused,
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


def test_job_workflow_every_state_action_pair_in_bulk(city):
    account = city.accounts["district"][0]
    allowed, forbidden = check_every_pair(Job, job_factory(city.orgs["district1"]), account=account, bulk=True)
    assert (allowed, forbidden) == (5, 4 * 5 - 5)


@pytest.mark.parametrize("bulk", [False, True])
def test_actions_needing_a_reason_are_refused_without_one(city, monkeypatch, bulk):
    """The engine's 须填写原因 rule, driven through the same helper with a table that has one."""
    table = dict(Job.WORKFLOW.transitions)
    monkeypatch.setattr(Job, "WORKFLOW", Workflow(
        "status", table, actions=dict(Job.WORKFLOW.actions, fail="退回"),
        needs_reason=frozenset({"fail"})))
    check_every_pair(Job, job_factory(city.orgs["district1"]), reason="材料不全", bulk=bulk)


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


def test_a_stale_page_refuses_the_whole_bulk_move(city):
    make = job_factory(city.orgs["district1"])
    check_bulk_stale_refused([make(RUNNING) for _ in range(3)], "finish", moved_by_other_to=FAILED)


def test_bulk_move_is_one_update_per_loaded_state_with_the_updates_and_audit_detail(city):
    make = job_factory(city.orgs["district1"])
    running, failed = [make(RUNNING), make(RUNNING)], [make(FAILED)]
    with pytest.raises(DomainError) as refused:  # 已失败 cannot 重新排队: the whole move is refused
        bulk_transition(Job, running + failed, "requeue")
    assert refused.value.message == "当前状态为「失败」，不能执行「任务中断后重新排队」"
    assert [state_in_db(j) for j in running + failed] == [RUNNING, RUNNING, FAILED]
    assert bulk_transition(Job, running, "requeue", updates={"attempts": 2}, detail={"批次编号": "CB1"}) == 2
    for job in running:
        moved = Job.get_by_id(job.id)
        assert (moved.status, moved.attempts) == (QUEUED, 2)
        (row,) = audit_rows(job)
        assert (row.action, row.from_state, row.to_state, row.detail_data) == (
            "任务中断后重新排队", RUNNING, QUEUED, {"批次编号": "CB1"})
    assert bulk_transition(Job, [], "start") == 0


def test_bulk_move_keeps_an_extra_condition_and_its_own_refusal(city):
    make = job_factory(city.orgs["district1"])
    jobs = [make(QUEUED), make(QUEUED)]
    count = AuditLog.select().count()
    with pytest.raises(DomainError) as refused:
        bulk_transition(Job, jobs, "start", where=(Job.attempts > 0), stale="名单已被他人修改", status=409)
    assert (refused.value.message, refused.value.status) == ("名单已被他人修改", 409)
    assert [state_in_db(j) for j in jobs] == [QUEUED, QUEUED]
    assert AuditLog.select().count() == count


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
