"""membership.person_name / person_gender / person_birth_date (migration 030) — the person's 姓名, 性别
and 出生日期 copied onto each membership so that 姓名搜索 and 可能已达退休年龄 filter a union's rows on
membership alone — equal the person's after every way a membership is written or a person changed:
新增会员, 编辑 (at once, and through 信息修改审核), 批量导入 (new people and people already known), 转出 /
转入, 同步会员 (a person joining directly), 证件信息更正, and plain SQL. (tests/conftest.py also checks the
whole database after every test.) And the lists find members by what the person says now."""

from datetime import date

import pytest

import models
from models import db
from models.base import today
from models.members import identity_fix, member_review, members
from models.members import member_sync as sync
from models.members import member_sync_apply as sync_apply
from models.members.people import Membership, Person
from models.orgs.organizations import Organization
from models.rules import retirement
from tests import factories
from tests.factories import memberfiles
from tests.helpers import soup, upload_job
from tests.test_members import VALID, make_id, names


def copies(m) -> tuple:
    row = Membership.get_by_id(m.id if hasattr(m, "id") else m)
    return row.person_name, row.person_gender, row.person_birth_date


def person_values(m) -> tuple:
    p = Person.get_by_id(Membership.get_by_id(m.id if hasattr(m, "id") else m).person_id)
    return p.name, p.gender, p.birth_date


def in_step(m) -> bool:
    return copies(m) == person_values(m) and copies(m)[0]


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


@pytest.fixture
def grassroots(as_role):
    return as_role("grassroots")


def form(name, id_number, **extra):
    return dict(VALID, name=name, id_number=id_number, **extra)


def test_new_member_and_an_edit_of_the_identity_at_once(union, grassroots):
    number = make_id(date(1990, 5, 6), True)
    assert grassroots.post("/members/new", data=form("复制甲", number)).status_code == 302
    m = Membership.select().join(Person).where(Person.id_number == number).get()
    assert copies(m) == ("复制甲", "男", date(1990, 5, 6))
    other = make_id(date(1970, 1, 2), False)  # 编辑: a new 证件号码 (and with it 性别 and 出生日期) and 姓名
    assert grassroots.post(f"/members/{m.id}/edit", data=form("复制乙", other)).status_code == 302
    assert copies(m) == ("复制乙", "女", date(1970, 1, 2))
    assert names(grassroots.get("/members/?name=复制乙")) == ["复制乙"]
    assert names(grassroots.get("/members/?name=复制甲")) == []


def test_an_identity_change_waiting_for_review_changes_the_copies_only_when_approved(city, union, grassroots):
    district = city.orgs["district1"]
    Organization.update(member_review=True).where(Organization.id == district.id).execute()
    m = factories.make_member(union, name="待改名", status="正常")
    birth = Person.get_by_id(m.person_id).birth_date
    number = Person.get_by_id(m.person_id).id_number
    grassroots.post(f"/members/{m.id}/edit", data=form("已改名", number))
    assert copies(m)[0] == "待改名"  # 信息修改 待审核: the person, and so the copies, unchanged
    change = m.changes.get()
    member_review.decide_change(change, "approve", city.account("district"))
    assert copies(m)[:2] == ("已改名", Person.get_by_id(m.person_id).gender) and copies(m)[2] == birth
    assert in_step(m)


def test_bulk_import_new_people_and_a_person_already_known(city, union, grassroots):
    former = factories.make_member(union, name=memberfiles.member_rows(1, start=3)[0]["姓名"],
                                   id_number=memberfiles.id_number(3), status="正常")
    Person.update(gender=memberfiles.gender(3)).where(Person.id == former.person_id).execute()
    members.delete(former, city.account("grassroots"), "退休")
    rows = memberfiles.member_rows(5, org=union)
    data, name = memberfiles.member_file(rows, "xlsx")
    job = upload_job(grassroots, "/members/import", data, name, category="企业外入会")
    assert job.status == "已完成", job.errors
    imported = list(Membership.select().join(Person).where(
        Person.id_number.in_([memberfiles.id_number(i) for i in range(5)]) & (Membership.id != former.id)))
    assert len(imported) == 5
    for m in imported:
        assert in_step(m), (copies(m), person_values(m))
    again = next(m for m in imported if m.person_id == former.person_id)  # the known person: the database copies
    assert copies(again)[0] == rows[3]["姓名"]


def test_transfer_out_and_in_keeps_the_copies(city, union):
    m = factories.make_member(union, name="转移者", status="正常")
    request = member_review.request_transfer(m, city.orgs["direct1"], city.account("grassroots"), "已离职")
    assert in_step(request.target)
    member_review.decide_transfer(request, "approve", city.account("district"))
    assert copies(request.target) == copies(m) == person_values(m)


def test_sync_joins_a_person_held_by_no_union_with_the_copies(city, union):
    m = factories.make_member(city.orgs["direct1"], name="无组织者", status="正常")
    members.delete(m, city.account("grassroots", 2), "退休")
    p = Person.get_by_id(m.person_id)
    joined = sync_apply.join_directly(sync.PersonRef(p.id, p.id_type, p.id_number, p.name), union,
                                city.account("grassroots"), "同步会员")
    assert copies(joined) == (p.name, p.gender, p.birth_date)


def test_a_corrected_identity_goes_to_every_membership_of_the_person(city, union):
    m = factories.make_member(city.orgs["direct1"], name="旧姓名", status="正常")
    members.delete(m, city.account("grassroots", 2), "退休")
    p = Person.get_by_id(m.person_id)
    now_here = members.join(p, union, status="正常")
    identity_fix.correct(p, {"name": "新姓名", "id_type": "其他", "id_number": "CORR12345", "gender": "女",
                             "birth_date": "1960-02-03"}, "证件信息有误", by=city.account("admin"))
    for row in (m, now_here):
        assert copies(row) == ("新姓名", "女", date(1960, 2, 3))


def test_plain_sql_writes_are_copied_by_the_database(union):
    """Whatever path a later area adds: a membership inserted through the model without the copies
    takes its person's (Membership.insert — on PostgreSQL also a bare SQL INSERT, below), a changed
    person reaches all of its memberships, a membership moved to another person takes the new
    one's."""
    a = Person.create(id_number=make_id(date(1980, 1, 1), True), name="直写甲", gender="男",
                      birth_date=date(1980, 1, 1))
    b = Person.create(id_number=make_id(date(1962, 3, 3), False), name="直写乙", gender="女",
                      birth_date=date(1962, 3, 3))
    mid = Membership.insert(person=a.id, org=union.id, status="正常").execute()
    assert copies(mid) == ("直写甲", "男", date(1980, 1, 1))
    db.execute_sql(f'UPDATE "person" SET "name" = {db.param}, "birth_date" = {db.param} WHERE "id" = {db.param}',
                   ("直写丙", date(1981, 1, 1), a.id))
    assert copies(mid) == ("直写丙", "男", date(1981, 1, 1))
    Person.update(population_removed=True).where(Person.id == a.id).execute()  # other columns: nothing to copy
    assert copies(mid) == ("直写丙", "男", date(1981, 1, 1))
    Membership.update(person=b.id).where(Membership.id == mid).execute()
    assert copies(mid) == ("直写乙", "女", date(1962, 3, 3))
    many = Membership.insert_many([{"person": b.id, "org": union.id, "status": "已删除"}]).execute()
    assert Membership.select().where(Membership.person == b.id, Membership.person_name == "直写乙").count() == 2, many


def test_a_bare_sql_insert_takes_the_copies_on_postgresql_and_sqlite_has_no_insert_trigger(union):
    """PostgreSQL fills a bare INSERT's copies (its AFTER trigger costs nothing when they are
    given); SQLite has no INSERT trigger on membership (migration 031: any trigger there makes
    every insert through the nine indexes 3 × dearer), so the model and the import write them."""
    a = Person.create(id_number=make_id(date(1975, 5, 5), True), name="直写丁", gender="男",
                      birth_date=date(1975, 5, 5))
    if models.is_postgres():
        cursor = db.execute_sql('INSERT INTO "membership" ("person_id", "org_id", "member_no", "status", '
                                '"leave_reason", "created_at", "mobile", "address", "education", "household", '
                                '"skill_level", "union_post", "work_unit", "tags", "category", '
                                '"category_detail", "edit_status", "updated_at") VALUES '
                                "(%s, %s, NULL, '已删除', '', now(), '', '', '', '', '', '', '', '', '', '', '', "
                                'now()) RETURNING "id"', (a.id, union.id))
        assert copies(cursor.fetchone()[0]) == ("直写丁", "男", date(1975, 5, 5))
    else:
        triggers = [n for (n,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                 "AND tbl_name = 'membership'").fetchall()]
        assert triggers == ["membership_copy_person_moved"]


def test_the_lists_follow_a_changed_person(app, city, union, grassroots):
    """姓名搜索 and 可能已达退休年龄 on 会员信息, and 卡片信息管理's 姓名搜索, read the copies: a person
    renamed or with a corrected birth date is found by the new values at once."""
    m = factories.make_member(union, name="年轻会员", status="正常")
    p = Person.get_by_id(m.person_id)
    assert "年轻会员" not in names(grassroots.get("/members/?retirement=1"))
    old = date.fromordinal(retirement.latest_birth(today(), "男" if p.gender == "男" else "女50").toordinal() - 1)
    Person.update(name="年长会员", birth_date=old).where(Person.id == p.id).execute()
    assert names(grassroots.get("/members/?retirement=1")) == ["年长会员"]
    assert names(grassroots.get("/members/?name=年长")) == ["年长会员"]
    assert names(grassroots.get("/members/?name=年轻")) == []
    cards = soup(grassroots.get("/cards/?name=年长"))
    assert "年长会员" in cards.select_one("#rows").get_text()


def test_the_migration_fills_the_copies_of_an_existing_database(tmp_path):
    """A database with members from before migration 030 gets every membership's copies on upgrade."""
    import peewee as pw
    from peewee_migrate import Router

    from app import BASE_DIR, upgrade_database
    old = pw.SqliteDatabase(str(tmp_path / "before030.db"))
    Router(old, migrate_dir=str(BASE_DIR / "migrations")).run("026_job_lease")
    with Organization.bind_ctx(old), Person.bind_ctx(old), Membership.bind_ctx(old):
        org = Organization.insert(name="旧工会", type="工会委员会", level="grassroots").execute()
        person = old.execute_sql(  # 026's person (has_card was dropped by 039)
            'INSERT INTO "person" ("id_type", "id_number", "name", "gender", "birth_date", "population_removed", '
            "\"has_card\", \"created_at\") VALUES ('身份证', '310101196001010011', '旧会员', '男', '1960-01-01', 0, 0, "
            "'2024-01-01')").lastrowid
        # no copies: 026 had none (a bare INSERT: Membership.insert would write them)
        old.execute_sql('INSERT INTO "membership" ("person_id", "org_id", "status", "leave_reason", "created_at", '
                        '"mobile", "address", "education", "household", "skill_level", "union_post", "work_unit", '
                        '"tags", "category", "category_detail", "edit_status", "updated_at") VALUES '
                        "(?, ?, '正常', '', '2024-01-01', '', '', '', '', '', '', '', '', '', '', '', '2024-01-01')",
                        (person, org))
    upgrade_database(old)
    assert old.execute_sql('SELECT "person_name", "person_gender", "person_birth_date" FROM "membership"'
                           ).fetchall() == [("旧会员", "男", "1960-01-01")]
    old.close()
