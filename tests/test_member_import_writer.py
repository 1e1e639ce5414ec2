"""批量导入会员 run the way a worker runs it (committed data, no transaction around the job): on
PostgreSQL the new members are written by a second connection while the rest of the file is still
checked (models/members/member_import_apply.Background), in ONE transaction committed with the
checkpoint "applied". Whatever stops the import before that commit leaves nothing written: a worker
dying in the middle of the file (the rows already written go with it, the staged chunks stay and
the next run imports every row once), or a conflict the writes meet (another operator took a
mobile number of the file meanwhile: nothing imported, the retry reports the row)."""

import json
import threading
import time

import pytest

from models import db, is_postgres
from models.base import DomainError
from models.jobs import Job, JobChunk, JobContext
from models.members import counts as stats
from models.members import member_import as importer
from models.members.people import NORMAL, OUTSIDE, PENDING, Membership, Person, next_member_numbers
from models.storage import stored_file
from tests import factories
from tests.factories import memberfiles
from tests.helpers import ProcessDied


def roster(org):
    return Membership.select().where((Membership.org == org.id) & Membership.status.in_([PENDING, NORMAL]))


def stored_job(city, rows, name: str) -> Job:
    org, account = city.orgs["grassroots1"], city.account("grassroots")
    data, file_name = memberfiles.member_file(rows, "xlsx")
    stored_file("uploads", name).write_bytes(data)
    return Job.create(kind=importer.KIND, title="批量导入会员", owner=account.id, org=org.id, status="运行中",
                      params=json.dumps({"upload": name, "account": account.id, "org": org.id,
                                         "file_name": file_name, "category": OUTSIDE}))


class DiesAfterChunk(JobContext):
    """The worker process dies while it commits its third chunk (the first two committed, their
    new members already handed to the writer)."""

    def save_progress(self, done, total=None, checkpoint=None):
        super().save_progress(done, total, checkpoint)
        if checkpoint and checkpoint.get("chunks") == 3 and not checkpoint.get("applied"):
            raise ProcessDied("worker killed")


def test_a_worker_dying_mid_file_leaves_nothing_written_and_the_next_run_imports_every_row_once(committed):
    city = factories.make_city()
    org = city.orgs["grassroots1"]
    n = 4500  # five chunks of importer.CHUNK
    people = Person.select().count()
    job = stored_job(city, memberfiles.member_rows(n, org=org), "dies.bin")
    with pytest.raises(ProcessDied):
        importer.run_import(DiesAfterChunk(Job.get_by_id(job.id)))
    assert roster(org).count() == 0 and Person.select().count() == people  # the written rows went with it
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 2  # the committed chunks stay

    result = importer.run_import(JobContext(Job.get_by_id(job.id)))  # the next worker
    assert (result["added"], result["failed"]) == (n, 0)
    assert roster(org).count() == n and roster(org).select(Membership.person).distinct().count() == n
    assert Person.select().count() == people + n
    assert sorted(result["people"]["added"]) == sorted(m.id for m in roster(org))
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert stats.member_total(org.id) == roster(org).where(Membership.status == NORMAL).count()


class AnotherOperatorTakesAMobile(JobContext):
    """After the first chunk is staged (and being written), another operator adds a member with
    the mobile number of a row in the file's last chunk."""

    def __init__(self, job, org, mobile):
        super().__init__(job)
        self.org, self.mobile = org, mobile

    def save_progress(self, done, total=None, checkpoint=None):
        super().save_progress(done, total, checkpoint)
        if (checkpoint or {}).get("chunks") == 1 and self.mobile:
            factories.make_member(self.org, mobile=self.mobile)
            self.mobile = None


def test_a_conflict_met_by_the_writes_mid_file_imports_nothing_and_the_retry_reports_the_row(committed):
    city = factories.make_city()
    org = city.orgs["grassroots1"]
    rows = memberfiles.member_rows(3200, org=org)
    people = Person.select().count()
    job = stored_job(city, rows, "race.bin")
    with pytest.raises(DomainError) as refused:
        importer.run_import(AnotherOperatorTakesAMobile(Job.get_by_id(job.id), org, rows[3100]["手机号码"]))
    assert "本次未导入任何数据" in refused.value.message
    assert roster(org).count() == 1  # only the other operator's member
    assert Person.select().count() == people + 1
    assert JobChunk.select().where(JobChunk.job == job.id).count() == 0
    assert json.loads(Job.get_by_id(job.id).checkpoint) == {}

    result = importer.run_import(JobContext(Job.get_by_id(job.id)))  # 重试: checked again
    assert (result["added"], result["failed"]) == (3199, 1)
    assert result["error_rows"][0][0] == 3102 and "已被本工会会员" in result["error_rows"][0][5]
    assert roster(org).count() == 3200


class SlowChecking(JobContext):
    """Checking the second chunk takes longer than the worker's lease (the machine is busy)."""

    def save_progress(self, done, total=None, checkpoint=None):
        super().save_progress(done, total, checkpoint)
        if (checkpoint or {}).get("chunks") == 1:
            time.sleep(4.5)


def test_a_slow_check_between_parts_does_not_end_the_writes(committed, monkeypatch):
    """The writer's transaction is ended by the server only when idle a whole lease (a stopped
    process, whose job another worker resumes): a live import waiting longer for its next part
    keeps it and imports every row."""
    monkeypatch.setenv("JOB_LEASE_SECONDS", "3")
    city = factories.make_city()
    org = city.orgs["grassroots1"]
    job = stored_job(city, memberfiles.member_rows(2500, org=org), "slow.bin")
    result = importer.run_import(SlowChecking(Job.get_by_id(job.id)))
    assert (result["added"], result["failed"]) == (2500, 0)
    assert roster(org).count() == 2500


class AnApprovalMidFile(JobContext):
    """While the import is between its parts (its first ones already written on PostgreSQL), a
    district approves a member elsewhere in the city: a 会员编号 is issued in another transaction."""

    def __init__(self, job):
        super().__init__(job)
        self.issued, self.error = None, None

    def stage(self, seq, part, done, total, staged=None):
        super().stage(seq, part, done, total, staged)  # committed
        if seq == 1 and self.issued is None:
            thread = threading.Thread(target=self._approve)
            thread.start()
            thread.join(30)

    def _approve(self):
        try:
            with db.atomic():
                if is_postgres():  # held by the import's writer, the counter row would make this wait
                    db.execute_sql("SET LOCAL lock_timeout = '3s'")
                self.issued = next_member_numbers(1)[0]
        except Exception as exc:  # noqa: BLE001 — shown in the assertion
            self.error = repr(exc)
        finally:
            db.close()


def test_member_numbers_are_issued_elsewhere_while_an_import_is_being_written(committed):
    """The import takes its 会员编号 a part at a time in short transactions of their own, so the
    city-wide counter is not held for the whole file: an approval elsewhere gets its number at
    once, and every number is issued once."""
    city = factories.make_city()
    org = city.orgs["grassroots1"]
    job = stored_job(city, memberfiles.member_rows(3500, org=org), "numbers.bin")
    ctx = AnApprovalMidFile(Job.get_by_id(job.id))
    result = importer.run_import(ctx)
    assert ctx.error is None and ctx.issued
    assert (result["added"], result["failed"]) == (3500, 0)
    numbers = [m.member_no for m in roster(org)]
    assert None not in numbers and len(set(numbers)) == 3500 and ctx.issued not in numbers
