"""Rules found in the issue-5 review: a pending new member with a transfer waiting cannot be
rejected; 同步会员 class B respects 会员审核; a transfer moves the activation with the 会员编号;
only the importing union retries its job; the read-only 市总工会 account never downloads full
numbers; odd ids in batch forms are ignored; every kind of ID number is masked in the audit log;
the roster migration keeps mobile numbers."""

import json
import tempfile
from datetime import date, datetime
from pathlib import Path

import peewee as pw
import pytest

from models.audit import AuditLog
from models.demo import id_number
from models.jobs import Job
from models.members import member_review, members
from models.members.counts import MemberDay
from models.members.people import Membership
from models.orgs.organizations import Organization
from tests import factories
from tests.factories import tablefiles
from tests.helpers import post_file


def review_on(org):
    Organization.update(member_review=True).where(Organization.id == org.district_id).execute()


def add(org, account, name, birth=date(1990, 3, 3), **fields):
    values = {"name": name, "id_number": id_number(factories._rng, birth, True), **fields}
    person_fields, errors = members.check_identity(values)
    assert not errors, errors
    return members.add(org, account, person_fields, {"mobile": "", "address": "上海市某路1号"})


def test_a_pending_member_with_a_transfer_waiting_cannot_be_rejected(city):
    union, other = city.orgs["grassroots1"], city.orgs["direct1"]
    review_on(union)
    pending = add(union, city.account("grassroots"), "待审甲")
    assert pending.status == members.PENDING
    request = member_review.request_transfer(pending, other, city.account("grassroots", 2), reason="同步会员")
    with pytest.raises(members.DomainError, match="待审核的转移申请"):
        member_review.reject(pending, city.account("district"), "资料不全")
    assert Membership.get_by_id(pending.id).status == members.PENDING
    assert request.target.status == members.TRANSFER_IN  # still decidable by the source side


def test_class_b_waits_for_member_review_where_the_district_reviews(city, as_role):
    union = city.orgs["grassroots1"]
    former = factories.make_member(city.orgs["direct1"], name="无组织乙")
    members.delete(former, city.account("grassroots", 2), "退休")  # now in the system with no union
    review_on(union)
    data, _ = tablefiles.write([["姓名", "证件号码"], ["无组织乙", former.person.id_number]], "xlsx")
    response = post_file(as_role("grassroots"), "/members/sync", data, "名单.xlsx")
    assert response.status_code in (200, 302)
    joined = Membership.get((Membership.person == former.person_id) & (Membership.org == union.id))
    assert joined.status == members.PENDING and joined.member_no is None and joined.approved_at is None


def test_a_transfer_moves_the_activation_with_the_member_number(city):
    source = factories.make_member(city.orgs["grassroots1"], approved_at=datetime(2026, 3, 5, 10))
    from models.members import counts as stats
    stats.rebuild()
    before = MemberDay.get_or_none((MemberDay.org == source.org_id) & (MemberDay.day == date(2026, 3, 5)))
    request = member_review.request_transfer(source, city.orgs["direct1"], city.account("grassroots", 2))
    member_review.decide_transfer(request, "approve", city.account("grassroots"))
    old, new = Membership.get_by_id(source.id), Membership.get_by_id(request.target_id)
    assert old.approved_at is None and new.approved_at == datetime(2026, 3, 5, 10)
    assert new.member_no == source.member_no
    activated = (MemberDay.select(pw.fn.SUM(MemberDay.activated)).where(MemberDay.day == date(2026, 3, 5)).scalar())
    assert activated == before.activated  # one activation that day, before and after
    direct = Membership.select().where((Membership.approved_at >= datetime(2026, 3, 5))
                                       & (Membership.approved_at < datetime(2026, 3, 6))).count()
    assert activated == direct


def test_only_the_importing_union_retries_its_job(city, as_role):
    job = Job.create(org=city.orgs["grassroots1"], kind="member_import", title="批量导入会员", status="失败",
                     params=json.dumps({}))
    for role, reason in (("city", "市总工会账号只能查看，不能修改数据"), ("district", "只有提交该任务的单位可以重试")):
        response = as_role(role).post(f"/jobs/{job.id}/retry")
        assert response.status_code == 403
        assert reason in response.get_data(as_text=True)
    assert Job.get_by_id(job.id).status == "失败"


def test_the_city_account_never_downloads_full_numbers(city, as_role):
    from models.storage import stored_file
    job = Job.create(org=city.orgs["grassroots1"], kind="member_import", title="批量导入会员", status="已完成",
                     params=json.dumps({}))
    stored_file("jobs", f"errors-{job.id}.xlsx").write_bytes(b"PK")
    Job.update(result=json.dumps({"error_file": f"errors-{job.id}.xlsx", "error_download_name": "x.xlsx"})).where(
        Job.id == job.id).execute()
    city_client = as_role("city")
    for url in (f"/jobs/{job.id}/errors", f"/members/import/{job.id}/errors"):
        response = city_client.get(url)
        assert response.status_code == 403, url
        assert "只读" in response.get_data(as_text=True)
    assert as_role("grassroots").get(f"/jobs/{job.id}/errors").status_code == 200


def test_odd_ids_in_batch_forms_are_ignored_not_a_crash(as_role):
    client = as_role("grassroots")
    for url in ("/members/delete", "/members/transfer"):
        response = client.post(url, data={"ids": ["²", "9" * 40, "abc"]})
        assert response.status_code == 302, url  # nothing usable ticked: said on the list (issue 16 item 17)
    assert as_role("district").post("/members/approvals/batch", data={"member": ["²", "9" * 40]}).status_code == 302


def test_passport_numbers_are_masked_in_the_audit_log(city):
    union = city.orgs["grassroots1"]
    fields, errors = members.check_identity({"name": "护照丙", "id_type": "护照", "id_number": "E12345678",
                                             "gender": "男", "birth_date": "1990-01-01"})
    assert not errors
    m = members.add(union, city.account("grassroots"), fields, {"mobile": "", "address": "上海市某路1号"})
    details = " ".join(a.detail for a in AuditLog.for_object(m))
    assert "E12345678" not in details and "E1 **** 78" in details


def test_the_roster_migration_keeps_mobile_numbers():
    """An issue-4 SQLite database with members (mobile on the person) upgraded the way `flask db
    upgrade` does: the tables are rebuilt despite the foreign keys, the mobile moves to the
    membership, and a number held twice in one union is kept by the first member only."""
    from peewee_migrate import Router

    import models
    from app import upgrade_database
    database = pw.SqliteDatabase(f"{tempfile.mkdtemp(prefix='migrate-')}/old.db", pragmas={"foreign_keys": 1})
    router = Router(database, migrate_dir=str(Path(__file__).resolve().parent.parent / "migrations"))
    test_database = models.db.obj
    models.db.initialize(database)  # migration 002 rebuilds the counters through the models
    try:
        router.run("002_orgs_accounts_dashboard")
        now = datetime(2026, 1, 1)
        database.execute_sql("INSERT INTO organization (id, name, type, level, depth, address, contact, phone, "
                             "is_temporary, status, created_at, updated_at) VALUES (1, '甲工会', '工会委员会', "
                             "'grassroots', 0, '', '', '', 0, '正常', ?, ?)", (now, now))
        for pid, mobile in ((1, "13900000001"), (2, "13900000001"), (3, "13900000003")):
            database.execute_sql("INSERT INTO person (id, id_type, id_number, name, gender, mobile, created_at) "
                                 "VALUES (?, '身份证', ?, ?, '男', ?, ?)",
                                 (pid, f"31010119900101{pid:04d}", f"人{pid}", mobile, now))
            database.execute_sql("INSERT INTO membership (id, person_id, org_id, status, leave_reason, "
                                 "created_at) VALUES (?, ?, 1, '正常', '', ?)", (pid, pid, now))
        assert upgrade_database(database)[0] == "003_member_roster"
    finally:
        models.db.initialize(test_database)
    mobiles = dict(database.execute_sql("SELECT id, mobile FROM membership ORDER BY id").fetchall())
    assert mobiles == {1: "13900000001", 2: "", 3: "13900000003"}
    assert database.execute_sql("SELECT count(*) FROM person").fetchone()[0] == 3
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    database.close()


