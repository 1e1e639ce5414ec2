"""同步会员 / 会员比对 (classes A–E, seed 001) and 从其他工会转入会员到本工会 by Excel."""

import io
import random
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from models.audit import AuditLog
from models.demo import id_number
from models.jobs import Job, JobContext
from models.members import counts as stats
from models.members import member_import as importer
from models.members import member_review, members
from models.members import member_sync as compare
from models.members.people import Membership, Person, TransferRequest, held_elsewhere_message, holding
from tests import factories
from tests.factories import tablefiles
from tests.helpers import post_file, soup, upload_job

HEADER = ["姓名", "证件号码"]
_rng = random.Random(2024)


def new_id(male: bool = True, birth: date | None = None) -> str:
    """A valid 身份证 number nobody in the test database has."""
    while True:
        birth_date = birth or date(1970 + _rng.randrange(30), 1 + _rng.randrange(12), 1 + _rng.randrange(28))
        number = id_number(_rng, birth_date, male)
        if not Person.select().where(Person.id_number == number).exists():
            return number


def person(name: str, number: str | None = None, male: bool = True) -> Person:
    number = number or new_id(male)
    return Person.create(name=name, id_number=number, gender="男" if male else "女",
                         birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])))


def former_member(org, account, how: str) -> Person:
    """A person whose only membership ended: 已删除 (退休) or 已转出."""
    m = factories.make_member(org)
    if how == "deleted":
        members.delete(m, account, "退休")
    else:
        members.move(m, "transfer_out", account=account, updates={"leave_date": date.today(), "member_no": None})
    assert members.holding(m.person_id) is None
    return m.person


def roster(rows, fmt="xlsx"):
    return tablefiles.write([HEADER] + rows, fmt)


def upload(client, data, name, url="/members/sync"):
    return upload_job(client, url, data, name)


def compare_rows(client, rows, fmt="xlsx") -> Job:
    job = upload(client, *roster(rows, fmt))
    assert job.status == "已完成", job.error_list
    return job


def membership(person_obj, org) -> Membership | None:
    return (Membership.select().where((Membership.person == person_obj.id) & (Membership.org == org.id))
            .order_by(Membership.id.desc()).first())


def counted(org_id=None) -> int:
    query = Membership.select().where(Membership.status == "正常")
    if org_id:
        query = query.where(Membership.org == org_id)
    return query.count()


@pytest.fixture
def union(city):
    return city.orgs["grassroots1"]


@pytest.fixture
def client(as_role):
    return as_role("grassroots")


# --- classification ------------------------------------------------------------------------------
def test_classes_a_to_e_and_the_moves_they_imply(city, union, client):
    other = city.orgs["direct1"]
    other_account = city.account("grassroots", 2)
    a = factories.make_member(union)
    a_pending = members.join(person("待审会员"), union, status="待审核")
    d = factories.make_member(union)
    b_deleted = former_member(other, other_account, "deleted")
    b_moved = former_member(other, other_account, "transferred")
    b_new = person("从未入会")
    c = factories.make_member(other, mobile="13911112222")
    e_number, e_female = new_id(), new_id(male=False)
    wrong_name = factories.make_member(other, name="李四")
    busy = factories.make_member(other)  # already on its way to a third union
    member_review.request_transfer(busy, city.orgs["grassroots2"], city.account("grassroots", 1))
    old15 = e_female[:6] + e_female[8:17]  # the same person's old 15-digit number
    rows = [
        [a.person.name, a.person.id_number],
        [a_pending.person.name, a_pending.person.id_number.lower()],
        [b_deleted.name, b_deleted.id_number],
        [b_moved.name, " " + b_moved.id_number],
        [b_new.name, b_new.id_number],
        [c.person.name, c.person.id_number],
        ["新 会员", e_number],
        ["新会员乙", old15],
        ["张三", wrong_name.person.id_number],
        ["", new_id()],
        ["坏号码", e_number[:17] + ("0" if e_number[17] != "0" else "1")],
        [busy.person.name, busy.person.id_number],
        [a.person.name, a.person.id_number],  # duplicate of row 2
    ]
    before_total = stats.member_total(union.id)
    job = compare_rows(client, rows)
    result = job.result_data
    assert result["counts"] == {"A": 2, "B": 3, "C": 1, "D": 1, "E": 2, "errors": 5}

    # A → 同步会员 是; D → 否; members never compared stay "-"
    assert Membership.get_by_id(a.id).synced is True
    assert Membership.get_by_id(a_pending.id).synced is True
    assert Membership.get_by_id(d.id).synced is False
    assert Membership.get_by_id(c.id).synced is None

    # B → members of this union at once: 正常, 会员编号, activated now, no approval
    for p in (b_deleted, b_moved, b_new):
        m = membership(p, union)
        assert m.status == "正常" and m.member_no and m.approved_at is not None and m.synced is True
        assert m.join_date is not None and m.mobile == ""
        assert AuditLog.for_object(m).where(AuditLog.action == "同步会员转入").exists()
    assert stats.member_total(union.id) == counted(union.id) == before_total + 3
    assert stats.member_total(city.orgs["city"].id) == counted()

    # C → a transfer request to the holding union; 转入审核中 here until it decides
    request = TransferRequest.get(TransferRequest.job == job.id)
    assert (request.source_id, request.from_org_id, request.to_org_id) == (c.id, other.id, union.id)
    assert request.status == "待审核" and request.reason == "同步会员"
    target = Membership.get_by_id(request.target_id)
    assert target.org_id == union.id and target.status == "转入审核中" and target.mobile == "13911112222"
    assert Membership.get_by_id(c.id).status == "正常"

    # E and errors: nothing created
    assert not Person.select().where(Person.id_number == e_number).exists()
    errors = {row: reason for row, _name, _number, reason in result["errors"]}
    assert errors == {
        10: "会员姓名和证件号码不一致（系统中为「李四」）",
        11: "请填写姓名",
        12: "身份证号码校验位不正确，请核对",
        13: f"该会员已有待审核的转移申请（正在转入「{city.orgs['grassroots2'].name}」），请等待审核结果",
        14: "证件号码与第2行重复",
    }
    assert membership(wrong_name.person, union) is None
    assert AuditLog.for_object(job).where(AuditLog.action == "同步会员").exists()


def test_a_member_with_an_error_row_is_not_class_d(union, client):
    """A member of this union whose row has a typo in the name is in the file: fixed, not
    marked as gone."""
    m = factories.make_member(union, name="王五")
    job = compare_rows(client, [["王六", m.person.id_number]])
    assert job.result_data["counts"]["D"] == 0 and job.result_data["counts"]["errors"] == 1
    assert Membership.get_by_id(m.id).synced is None


def test_a_mobile_clash_becomes_an_error_row_and_nothing_else_moves(city, union, client):
    factories.make_member(union, mobile="13800000001")
    c = factories.make_member(city.orgs["direct1"], mobile="13800000001")
    job = compare_rows(client, [[c.person.name, c.person.id_number]])
    assert job.result_data["counts"]["C"] == 0
    [[row, _name, _number, reason]] = job.result_data["errors"]
    assert row == 2 and "移动电话已被本工会会员" in reason
    assert not TransferRequest.select().where(TransferRequest.person == c.person_id).exists()


def test_other_id_types_are_found_under_any_type(union, client):
    passport = Person.create(name="JOHN SMITH", id_type="护照", id_number="E12345678", gender="男",
                             birth_date=date(1980, 1, 1))
    job = compare_rows(client, [["JOHN SMITH", "e1234 5678"], ["某人", "X9876543"]])
    assert job.result_data["counts"] == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 1, "errors": 0}
    assert membership(passport, union).status == "正常"


def test_numeric_id_cells_are_refused(union, client):
    """An 18-digit ID typed into a number cell has lost its last digits in Excel."""
    m = factories.make_member(union)
    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append([m.person.name, int(m.person.id_number[:17] + "0")])
    buffer = io.BytesIO()
    wb.save(buffer)
    job = upload(client, buffer.getvalue(), "数字.xlsx")
    [[_row, _name, _number, reason]] = job.result_data["errors"]
    assert reason == compare.NUMERIC_ID


@pytest.mark.parametrize("fmt", ["xlsx", "csv-bom"])
def test_plain_rows_are_checked_as_every_row_is(fmt, monkeypatch):
    """read_lines takes a column of plain rows (a name and an 18-digit number as most rosters hold
    them) a whole column at a time: every line it gives is the one member_fields.roster_line gives
    for that row — the same number, gender and error — whether the column is all plain or mixed
    with numbers that are wrong (bad birth date, bad check character), names with spaces and
    numbers typed as numbers."""
    from models.rules import member_fields
    from models.rules.idnumber import check_digit
    monkeypatch.setattr(compare, "today", lambda: date(2025, 6, 1))
    rng, on, seen = random.Random(19), date(2025, 6, 1), set()
    rows = []
    while len(rows) < 3000:
        body = (f"{rng.randrange(100000, 999999)}{rng.choice([1899, 1900, 1985, 2025, 2026])}"
                f"{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}{rng.randrange(0, 1000):03d}")
        number = body + (check_digit(body) if rng.random() < 0.7 else rng.choice("0123456789X"))
        if number in seen:
            continue
        seen.add(number)
        rows.append([rng.choice(["张三", "李 四", "ＡＢ"]), number.lower() if rng.random() < 0.05 else number])
    valid = [r for r in rows if not member_fields.roster_line("张三", r[1], on).error]
    cases = [  # (rows as written, the header)
        ([["张三", n] for _, n in valid], HEADER),  # every row plain: the lines made a column at a time
        ([["张三", n] for _, n in valid[:50]] + [["张三", valid[0][1]]], HEADER),  # a number twice
        ([["张三", n, "调动"] for _, n in valid[:50]], ["姓名", "证件号码", "转入原因"]),  # 转入原因 read
        ([["张三", n] for _, n in rows], HEADER),  # wrong numbers among them
        ([[name, n] for name, n in rows], HEADER),  # and names with spaces or full-width letters
    ]
    for written, header in cases:
        data, _name = tablefiles.write([header] + written, fmt)
        lines = compare.read_lines(data)
        assert len(lines) == len(written)
        seen = {}
        for number, (line, cells) in enumerate(zip(lines, written, strict=True), start=2):
            checked = member_fields.roster_line(cells[0], cells[1], on)
            error = checked.error
            if not error and seen.setdefault(checked.id_number, number) != number:
                error = f"证件号码与第{seen[checked.id_number]}行重复"
            assert (line.row, line.name, line.id_number, line.resident, line.gender, line.error, line.reason) == (
                number, checked.name, checked.id_number, checked.resident, checked.gender, error,
                cells[2] if len(cells) > 2 else ""), cells


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "csv-gbk", "csv-bom"])
def test_every_format(union, client, fmt):
    a = factories.make_member(union, name="张三丰")
    b = person("李白")
    job = compare_rows(client, [[a.person.name, a.person.id_number], [b.name, b.id_number], ["杜甫", new_id()]],
                       fmt)
    assert job.result_data["counts"] == {"A": 1, "B": 1, "C": 0, "D": 0, "E": 1, "errors": 0}


def test_a_5000_row_roster(city, union, client):
    other = city.orgs["direct1"]
    here = [factories.make_member(union) for _ in range(300)]
    gone = [factories.make_member(union) for _ in range(40)]
    elsewhere = [factories.make_member(other) for _ in range(60)]
    loose = [person(f"无组织{i}") for i in range(100)]
    rows = ([[m.person.name, m.person.id_number] for m in here + elsewhere]
            + [[p.name, p.id_number] for p in loose])
    fresh = set()  # new people, each once in the file (new_id only avoids the database)
    while len(fresh) < 5000 - len(rows):
        fresh.add(new_id(len(fresh) % 2 == 0))
    rows += [[f"新会员{i}", number] for i, number in enumerate(sorted(fresh))]
    _rng.shuffle(rows)
    job = compare_rows(client, rows)
    assert job.result_data["counts"] == {"A": 300, "B": 100, "C": 60, "D": 40, "E": 4540, "errors": 0}
    assert job.result_data["rows"] == 5000
    synced = Membership.select(Membership.status).where((Membership.org == union.id) & Membership.synced)
    assert sorted(set((s, list(synced.tuples()).count((s,))) for (s,) in synced.tuples())) == [
        ("正常", 400), ("转入审核中", 60)]
    assert {Membership.get_by_id(m.id).synced for m in gone} == {False}
    assert TransferRequest.select().where(TransferRequest.job == job.id).count() == 60
    assert stats.member_total(union.id) == counted(union.id) == 440
    new = load_workbook(io.BytesIO(client.get(f"/members/sync/{job.id}/new").data), read_only=True)
    assert sum(1 for row in new.worksheets[0].iter_rows(min_row=2, values_only=True) if any(row)) == 4540


def test_people_taken_meanwhile_become_error_rows_and_the_others_still_move(city, union):
    """Between the classification and the apply another operator takes a class-B person into another
    union and files a transfer of a class-C person to a third one: those two rows become error rows
    saying why, the other B and C rows still move (B and C are written together, then row by row)."""
    other, third = city.orgs["direct1"], city.orgs["grassroots2"]
    account = city.account("grassroots")
    b_kept, b_taken = person("无组织甲"), person("无组织乙")
    c_kept, c_taken = factories.make_member(other), factories.make_member(other)
    data, _name = roster([[p.name, p.id_number] for p in (b_kept, b_taken, c_kept.person, c_taken.person)])
    plan = compare.classify(compare.read_lines(data), union)
    assert (len(plan.b), len(plan.c)) == (2, 2)
    members.join(b_taken.id, third, status="待审核", join_date=date.today())
    member_review.request_transfer(c_taken, third, city.account("grassroots", 1))
    job = factories.make_job(union, account)
    result = compare.apply(plan, union, account, job)
    assert result["counts"] == {"A": 0, "B": 1, "C": 1, "D": 0, "E": 0, "errors": 2}
    errors = {row: reason for row, _name, _number, reason in result["errors"]}
    assert errors == {3: held_elsewhere_message(holding(b_taken.id)),
                      5: f"会员「{c_taken.person.name}」已有待审核的转移申请"}
    assert errors[3].startswith(f"该会员已是「{third.name}」的会员")
    assert membership(b_kept, union).status == "正常" and membership(b_taken, union) is None
    [request] = TransferRequest.select().where(TransferRequest.job == job.id)
    assert request.source_id == c_kept.id and Membership.get_by_id(request.target_id).synced is True
    assert [x[1:3] for x in result["moved"]] == [["B", membership(b_kept, union).id], ["C", request.id]]
    assert stats.member_total(union.id) == counted(union.id)


def test_transfers_filed_together_are_inserted_synced_not_written_twice(city, union):
    """Class C filed together: the 转入审核中 memberships are inserted 同步会员 是 (they are in the
    uploaded roster), so the apply writes no second version of them (PostgreSQL: each through
    every index of membership)."""
    from models.members import member_sync_apply
    other, account = city.orgs["direct1"], city.account("grassroots")
    c1, c2 = factories.make_member(other), factories.make_member(other)
    data, _name = roster([[m.person.name, m.person.id_number] for m in (c1, c2)])
    plan = compare.classify(compare.read_lines(data), union)
    batch = [(line, Membership.select(Membership, Person).join(Person).where(Membership.id == held.id).get())
             for line, held in plan.c]
    filed = member_sync_apply._file_transfers(batch, union, account, factories.make_job(union, account))
    assert len(filed) == 2
    assert {Membership.get_by_id(target).synced for _row, _request, target in filed} == {True}


def test_syncing_the_same_roster_again_writes_no_membership(union, client):
    """The apply writes only rows whose 同步会员 changes — none when the same roster comes again
    (A stays 是, D stays 否, neither row rewritten)."""
    a, d = factories.make_member(union), factories.make_member(union)
    rows = [[a.person.name, a.person.id_number]]
    first = compare_rows(client, rows)
    assert first.result_data["counts"]["A"] == 1 and first.result_data["counts"]["D"] == 1
    stamps = {m.id: m.updated_at for m in Membership.select().where(Membership.id.in_([a.id, d.id]))}
    again = compare_rows(client, rows)
    assert again.result_data["counts"] == first.result_data["counts"]
    assert {m.id: m.updated_at for m in Membership.select().where(Membership.id.in_([a.id, d.id]))} == stamps
    assert Membership.get_by_id(a.id).synced is True and Membership.get_by_id(d.id).synced is False


def test_a_compare_applies_its_roster_whatever_another_compare_committed_after_its_classification(
        union, client, monkeypatch):
    """Two compares of one union (two workers): this one classified m as D while m was 否; another
    then made m 是 and committed. This apply must still leave m 否 — its roster lacks m — and not
    skip m as unchanged on what its classification read."""
    keep, m = factories.make_member(union), factories.make_member(union)
    Membership.update(synced=False).where(Membership.id == m.id).execute()
    real = compare.classify

    def classify_then_other_commits(lines, org):
        plan = real(lines, org)
        Membership.update(synced=True).where(Membership.id == m.id).execute()  # the other compare
        return plan
    monkeypatch.setattr(compare, "classify", classify_then_other_commits)
    job = compare_rows(client, [[keep.person.name, keep.person.id_number]])
    assert job.result_data["counts"]["D"] == 1
    assert Membership.get_by_id(m.id).synced is False and Membership.get_by_id(keep.id).synced is True


def test_two_transfers_with_one_mobile_the_second_is_an_error_row(city, union, client):
    """Two members of other unions with the same 手机号码: the first one's transfer is filed, the
    second would hold the same mobile in this union (手机号码不要重复) and is an error row naming the first."""
    first = factories.make_member(city.orgs["direct1"], mobile="13911110000")
    second = factories.make_member(city.orgs["grassroots2"], mobile="13911110000")
    job = compare_rows(client, [[first.person.name, first.person.id_number],
                                [second.person.name, second.person.id_number]])
    assert job.result_data["counts"]["C"] == 1
    assert job.result_data["errors"] == [[3, second.person.name, second.person.id_number,
                                          f"移动电话已被本工会会员「{first.person.name}」使用（手机号码不要重复）"]]
    assert TransferRequest.get(TransferRequest.job == job.id).source_id == first.id


def test_a_restarted_job_does_not_apply_twice(union, client):
    b = person("重跑")
    job = compare_rows(client, [[b.name, b.id_number]])
    again = compare.run_compare(JobContext(Job.get_by_id(job.id)))
    assert again == job.result_data
    assert Membership.select().where(Membership.person == b.id).count() == 1


# --- the downloads -------------------------------------------------------------------------------
def test_class_e_download_is_a_member_import_file(union, client):
    male, female = new_id(True), new_id(False)
    job = compare_rows(client, [["新会员甲", male], ["新会员乙", female], ["外籍人士", "P7654321"]])
    response = client.get(f"/members/sync/{job.id}/new")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    got = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True) if any(row)]
    assert got[0] == compare.IMPORT_COLUMNS == importer.TEMPLATE_HEADER == [
        "姓名*", "证件类型(身份证)*", "证件号码*", "手机号码*", "性别*", "所在工会*", "工会编号*", "工作单位/服务平台",
        "会员标签"]
    assert got[1:] == [
        ["新会员甲", "身份证", male, "", "男", union.name, union.union_no, "", ""],
        ["新会员乙", "身份证", female, "", "女", union.name, union.union_no, "", ""],
        ["外籍人士", "", "P7654321", "", "", union.name, union.union_no, "", ""],
    ]
    assert sheet["C2"].number_format == "@" and "数据说明" in wb.sheetnames
    # the operator fills 手机号码 (and what a passport needs) and uploads it as 批量导入
    for i in (1, 2, 3):
        sheet.cell(i + 1, 4).value = f"1390000000{i}"
    sheet["B4"], sheet["E4"] = "护照", "男"
    filled = io.BytesIO()
    wb.save(filled)
    imported = upload_job(client, "/members/import", filled.getvalue(), "比对结果.xlsx", category="企业外入会")
    assert imported.status == "已完成" and imported.result_data["added"] == 3, imported.result_data
    for number in (male, female, "P7654321"):
        m = membership(Person.get(Person.id_number == number), union)
        assert m.status == "正常" and m.mobile.startswith("139")
    again = compare_rows(client, [["新会员甲", male], ["新会员乙", female], ["外籍人士", "P7654321"]])
    assert again.result_data["counts"] == {"A": 3, "B": 0, "C": 0, "D": 0, "E": 0, "errors": 0}


def test_class_e_workbook_is_made_on_its_first_download_only(union, client):
    """The compare keeps its class-E rows, not the workbook: the file is made when first asked for
    (on either download link), kept for the next download, and removed with the results."""
    from datetime import timedelta

    from models.base import now
    from models.jobs import purge_uploads
    from models.storage import stored_file
    number = new_id(True)
    job = compare_rows(client, [["新会员丙", number]])
    result = job.result_data
    workbook, rows = stored_file("jobs", result["file"]), stored_file("jobs", result["rows_file"])
    assert rows.exists() and not workbook.exists()  # nothing built while the compare ran
    first = client.get(f"/jobs/{job.id}/download")
    assert first.status_code == 200 and workbook.exists()
    sheet = load_workbook(io.BytesIO(first.data)).worksheets[0]
    assert [c.value for c in sheet[2]][:7] == ["新会员丙", "身份证", number, None, "男", union.name, union.union_no]
    assert client.get(f"/members/sync/{job.id}/new").data == workbook.read_bytes()
    Job.update(finished_at=now() - timedelta(days=400)).where(Job.id == job.id).execute()
    assert job.id in purge_uploads(30)
    assert not rows.exists() and not workbook.exists()
    assert client.get(f"/members/sync/{job.id}/new").status_code == 410


def test_class_e_workbook_built_while_the_results_are_purged_is_not_left_behind(union, client, monkeypatch):
    """A first download that builds the workbook while the retention purge removes the results
    (rows file first) removes the workbook it made, says 410, and leaves no .part file."""
    from datetime import timedelta

    from models.base import now
    from models.jobs import purge_uploads
    from models.members import member_sync_files
    from models.storage import stored_file
    job = compare_rows(client, [["新会员丁", new_id(True)]])
    workbook = stored_file("jobs", job.result_data["file"])
    Job.update(finished_at=now() - timedelta(days=400)).where(Job.id == job.id).execute()
    real = member_sync_files.new_members_workbook

    def purged_meanwhile(lines, org):
        data = real(lines, org)
        assert job.id in purge_uploads(30)
        return data
    monkeypatch.setattr(member_sync_files, "new_members_workbook", purged_meanwhile)
    assert client.get(f"/members/sync/{job.id}/new").status_code == 410
    assert not workbook.exists() and not list(workbook.parent.glob(f"{workbook.name}.*.part"))


def test_without_class_e_the_download_is_the_empty_member_import_template(union, client):
    m = factories.make_member(union)
    job = compare_rows(client, [[m.person.name, m.person.id_number]])
    assert job.result_data["counts"]["E"] == 0
    response = client.get(f"/members/sync/{job.id}/new")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    assert list(rows[0]) == compare.IMPORT_COLUMNS and len(rows) == 1


def test_export_shows_the_original_union_and_the_live_review_state(city, union, client):
    other, third = city.orgs["direct1"], city.orgs["grassroots2"]
    c1 = factories.make_member(other)
    c2 = factories.make_member(third)
    b = former_member(other, city.account("grassroots", 2), "deleted")
    job = compare_rows(client, [[c1.person.name, c1.person.id_number], [b.name, b.id_number],
                                [c2.person.name, c2.person.id_number]])

    def exported():
        response = client.get(f"/members/sync/{job.id}/export")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).active
        return [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]

    got = exported()
    assert got[0] == ["姓名", "证件号码", "原所属单位", "原单位负责人", "原单位联系电话", "原单位所属区局", "审核状态",
                      "审核说明"]
    assert got[1] == [c1.person.name, c1.person.id_number, other.name, other.contact, other.phone,
                      city.orgs["district1"].name, "待审核", ""]
    assert got[2] == [b.name, b.id_number, other.name, other.contact, other.phone, city.orgs["district1"].name,
                      "已转入（无须审核）", ""]
    assert got[3][2] == third.name and got[3][5] == city.orgs["district2"].name and got[3][6] == "待审核"

    first = TransferRequest.get((TransferRequest.job == job.id) & (TransferRequest.source == c1.id))
    member_review.decide_transfer(first, "approve", city.account("district", 0), note="同意转出")
    second = TransferRequest.get((TransferRequest.job == job.id) & (TransferRequest.source == c2.id))
    member_review.decide_transfer(second, "reject", city.account("grassroots", 1), note="该会员仍在本单位工作")
    got = exported()
    assert got[1][6:] == ["已通过", "同意转出"]
    assert got[3][6:] == ["已驳回", "该会员仍在本单位工作"]
    assert Membership.get_by_id(first.target_id).status == "正常"


def test_template_download(client):
    response = client.get("/members/sync/template")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]] == ["姓名", "证件号码"]
    assert sheet["B2"].number_format == "@"
    assert "数据说明" in wb.sheetnames
    template = load_workbook(io.BytesIO(client.get("/members/transfer-in/template").data)).worksheets[0]
    assert [c.value for c in template[1]] == ["姓名", "证件号码", "转入原因"]


# --- pages ---------------------------------------------------------------------------------------
def test_sync_page_has_the_manuals_words(client):
    page = soup(client.get("/members/sync"))
    text = page.get_text()
    for words in ("选择导入文件", "Excel模板", "下载EXCEL文件模板", "请从第二行开始填写会员信息；",
                  "本功能为会员同步功能；", "会员信息必须存在于系统中方能导入；", "会员姓名和证件号码必须一致方能转入",
                  "最终导入结果需等待转出单位或者上级单位审核", "历史导入记录"):
        assert words in text, words
    assert page.find("button", string="同步") is not None
    assert page.find("a", string="下载EXCEL文件模板")["href"] == "/members/sync/template"
    fragment = client.get("/members/sync", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    part = soup(fragment)
    assert part.find("html") is None and part.find(id="history") is not None and part.find("form") is None


def test_history_lists_every_compare(union, client):
    a = factories.make_member(union)
    first = compare_rows(client, [[a.person.name, a.person.id_number]])
    second = compare_rows(client, [[a.person.name, a.person.id_number], ["新人", new_id()]], "csv-utf8")
    failed = upload(client, "名称,地址\n甲,乙\n".encode(), "错.csv")
    assert failed.status == "失败" and "文件缺少必需的列：姓名、证件号码" in failed.error_list[0]
    rows = soup(client.get("/members/sync")).select("#history tbody tr")
    assert len(rows) == 3
    cells = [[td.get_text(strip=True) for td in r.find_all("td")] for r in rows]
    assert [c[2] for c in cells] == ["失败", "导入成功", "导入成功"]
    assert cells[1][0] == second.created_at.strftime("%Y-%m-%d %H:%M:%S") and cells[1][1] == "导入.csv"
    assert cells[1][3:9] == ["1", "0", "0", "0", "1", "0"]
    exports = [a["href"] for a in soup(client.get("/members/sync")).find_all("a", string="导出结果")]
    assert exports == [f"/members/sync/{second.id}/export", f"/members/sync/{first.id}/export"]
    other_union = factories.make_account(factories.make_org(union.parent))
    assert compare.history(other_union.org_id).count() == 0


def test_result_page_with_and_without_htmx(union, client):
    gone = factories.make_member(union, name="已离职会员")  # class D
    kept = factories.make_member(union, name="仍在职会员")  # class A
    job = compare_rows(client, [["新人", new_id()], [kept.person.name, kept.person.id_number]])
    page = soup(client.get(f"/members/sync/{job.id}"))
    counts = {tr["class"][0][-1]: tr.select_one(".count").get_text() for tr in page.select("#sync-classes tbody tr")}
    assert counts == {"A": "1", "B": "0", "C": "0", "D": "1", "E": "1"}
    assert "系统会将此类会员自动转入本单位，无须审核" in page.get_text()
    details = page.find("a", string="查看处理详情")["href"]
    assert details == "/members/?synced=%E5%90%A6"
    listed = soup(client.get(details)).get_text()
    assert gone.person.name in listed and kept.person.name not in listed
    assert page.find("a", string="下载比对结果")["href"] == f"/members/sync/{job.id}/new"
    assert page.find("a", string="导出结果")["href"] == f"/members/sync/{job.id}/export"
    assert page.find("meta", attrs={"http-equiv": "refresh"}) is None
    polled = client.get(f"/members/sync/{job.id}", headers={"HX-Request": "true"})
    assert polled.status_code == 286  # finished: htmx stops polling
    assert soup(polled).find("html") is None and soup(polled).find(id="sync-progress") is not None


def test_a_running_compare_is_polled(city, union, client):
    job = Job.create(kind=compare.KIND, title="同步会员", org=union, owner=city.account("grassroots"),
                     progress_total=10, progress_done=5)
    page = soup(client.get(f"/members/sync/{job.id}"))
    assert page.select_one("noscript meta[http-equiv=refresh]")["content"] == "2"
    block = page.find(id="sync-progress")
    assert block["hx-trigger"] == "every 1s" and block["hx-get"] == f"/members/sync/{job.id}"
    assert page.select_one(".sync-status").get_text() == "处理中"
    polled = client.get(f"/members/sync/{job.id}", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and soup(polled).find(id="sync-progress")["hx-trigger"] == "every 1s"
    assert client.get(f"/members/sync/{job.id}/export").status_code == 409


def test_error_rows_are_listed_like_the_manual(union, client):
    row_number = new_id()
    job = compare_rows(client, [["张一", new_id()], ["", row_number]])
    page = soup(client.get(f"/members/sync/{job.id}"))
    assert "导入信息有以下错误,请重新修改后导入" in page.get_text()
    table = page.find(id="sync-errors")
    assert [th.get_text() for th in table.find_all("th")] == ["错误行号", "姓名", "证件号码", "错误信息"]
    [row] = [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")]
    assert row[0] == "3" and row[3] == "请填写姓名" and "****" in row[2]  # masked in the list
    errors_file = client.get(page.find("a", string="下载错误数据")["href"])
    assert errors_file.status_code == 200
    sheet = load_workbook(io.BytesIO(errors_file.data)).active
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[1:] == [["错误行号", "姓名", "证件号码", "错误信息"], [3, None, row_number, "请填写姓名"]]
    # not a roster: uploading this list by mistake marks nobody 同步会员 否
    mistaken = upload(client, errors_file.data, "错误数据.xlsx")
    assert mistaken.status == "失败" and "文件缺少必需的列" in mistaken.error_list[0]


# --- scope ---------------------------------------------------------------------------------------
def test_another_unions_compare_is_404(as_role, union, client):
    job = compare_rows(client, [["新人", new_id()]])
    strangers = [as_role("grassroots", 1), as_role("grassroots", 2), as_role("district", 1), as_role("secondary", 1)]
    superiors = [as_role("district", 0), as_role("secondary", 0)]  # the union's own district and street union
    for url in (f"/members/sync/{job.id}", f"/members/sync/{job.id}/export", f"/members/sync/{job.id}/new"):
        for stranger in strangers:
            assert stranger.get(url).status_code == 404, url
        for reader in [client] + superiors:
            assert reader.get(url).status_code == 200, url


def test_other_jobs_are_not_shown_as_compares(city, union, client):
    job = factories.make_job(union, city.account("grassroots"))
    for url in (f"/members/sync/{job.id}", f"/members/sync/{job.id}/export", f"/members/sync/{job.id}/new"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job.id}", url


@pytest.mark.parametrize("role", ["district", "secondary", "city", "centre"])
def test_only_grassroots_unions_sync(as_role, role):
    other = as_role(role)
    for url in ("/members/sync", "/members/transfer-in", "/members/sync/template"):
        assert other.get(url).status_code == 403, url
    assert other.post("/members/sync").status_code == 403


def test_a_temporary_union_may_sync(city, app):
    temp = city.orgs["temporary1"]
    account = factories.make_account(temp)
    web = app.test_client()
    factories.login(web, account)
    b = person("离职人员")
    compare_rows(web, [[b.name, b.id_number]])
    assert membership(b, temp).status == "正常"


def test_missing_file_is_explained(client):
    response = client.post("/members/sync", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert soup(response).select_one(".alert-error").get_text() == "请选择导入文件"


# --- 从其他工会转入会员到本工会 -------------------------------------------------------------------
def post_transfer(client, rows, fmt="xlsx", headers=None):
    data, name = tablefiles.write([["姓名", "证件号码", "转入原因"]] + rows, fmt)
    return post_file(client, "/members/transfer-in", data, name, headers=headers or {})


def outcome_rows(response):
    return [[td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in soup(response).select("#transfer-results tbody tr")]


def test_transfer_in_a_single_member(city, union, client):
    other = city.orgs["direct1"]
    m = factories.make_member(other)
    response = post_transfer(client, [[m.person.name, m.person.id_number, "调入本单位工作"]])
    assert response.status_code == 200
    [row] = outcome_rows(response)
    assert row[:2] == ["2", m.person.name] and row[3] == other.name and row[4] == "转入审核中"
    assert m.person.id_number not in response.get_data(as_text=True)  # masked
    request = TransferRequest.get(TransferRequest.source == m.id)
    assert request.reason == "调入本单位工作" and request.to_org_id == union.id and request.job is None
    assert Membership.get_by_id(request.target_id).status == "转入审核中"


def test_transfer_in_several_rows_each_on_its_own(city, union, client):
    other = city.orgs["direct1"]
    held = factories.make_member(other)
    loose = former_member(other, city.account("grassroots", 2), "deleted")
    mine = factories.make_member(union)
    wrong = factories.make_member(other, name="赵六")
    unknown = new_id()
    before = stats.member_total(union.id)
    response = post_transfer(client, [
        [held.person.name, held.person.id_number, ""],
        [loose.name, loose.id_number, ""],
        [mine.person.name, mine.person.id_number, ""],
        ["钱七", wrong.person.id_number, ""],
        ["孙八", unknown, ""],
        [held.person.name, held.person.id_number, ""],
    ], fmt="csv-gbk", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert soup(response).find("html") is None  # the result fragment only
    rows = outcome_rows(response)
    assert [r[4] for r in rows] == ["转入审核中", "已转入（无须审核）", "未转入", "未转入", "未转入", "未转入"]
    assert rows[2][5] == "已是本工会会员"
    assert rows[3][5] == "会员姓名和证件号码不一致（系统中为「赵六」）"
    assert rows[4][5] == compare.NOT_FOUND
    assert rows[5][5] == "证件号码与第2行重复"
    assert TransferRequest.get(TransferRequest.source == held.id).reason == "从其他工会转入"
    assert membership(loose, union).status == "正常"
    assert stats.member_total(union.id) == counted(union.id) == before + 1
    assert "共6行，成功2行，未转入4行。" in soup(response).get_text()


def test_transfer_in_page_and_a_bad_file(client):
    page = soup(client.get("/members/transfer-in"))
    assert page.find("a", string="下载EXCEL文件模板")["href"] == "/members/transfer-in/template"
    assert "会员信息必须存在于系统中方能导入" in page.get_text()
    bad = post_file(client, "/members/transfer-in", b"PK\x03\x04 broken", "x.xlsx")
    assert bad.status_code == 422 and "文件已损坏" in soup(bad).select_one(".alert-error").get_text()


# --- every count opens the people behind it ------------------------------------------------------
def pager_total(page) -> int:
    import re
    return int(re.search(r"总共 (\d+) 条记录", page.select_one(".pager-summary").get_text()).group(1))


def listed_ids(client, url) -> tuple[int, set]:
    """(the pager's N, ids of the members linked from every page of the list)."""
    first = soup(client.get(url))
    total, ids, page = pager_total(first), set(), first
    number = 1
    while True:
        for a in page.select("#people-list a"):
            if a["href"].startswith("/members/") and a["href"].split("/")[2].isdigit():
                ids.add(int(a["href"].split("/")[2]))
        if page.find("a", string="下一页") is None:
            return total, ids
        number += 1
        page = soup(client.get(f"{url}?page={number}"))


def test_every_class_count_opens_the_people_behind_it(city, union, client, as_role):
    other = city.orgs["direct1"]
    a = factories.make_member(union)
    a_pending = members.join(person("待审会员"), union, status="待审核")
    gone = [factories.make_member(union) for _ in range(17)]  # class D: two pages
    b_deleted = former_member(other, city.account("grassroots", 2), "deleted")
    b_new = person("从未入会")
    c1, c2 = factories.make_member(other), factories.make_member(other)
    before = {m.id for m in Membership.select(Membership.id).where(Membership.org == union.id)}
    bad = new_id()
    rows = [[a.person.name, a.person.id_number], [a_pending.person.name, a_pending.person.id_number],
            [b_deleted.name, b_deleted.id_number], [b_new.name, b_new.id_number],
            [c1.person.name, c1.person.id_number], [c2.person.name, c2.person.id_number],
            ["新会员", new_id()], ["", new_id()], ["坏号码", bad[:17] + ("0" if bad[17] != "0" else "1")]]
    job = compare_rows(client, rows)
    in_file = [r[1] for r in rows]
    mine = Membership.select().join(Person).where(Membership.org == union.id)
    direct = {  # counted straight from the tables right after the compare
        "A": {m.id for m in mine.where(Membership.id.in_(list(before)) & Person.id_number.in_(in_file)
                                       & Membership.status.in_(["待审核", "正常"]))},
        "B": {m.id for m in mine.where(Membership.id.not_in(list(before)) & (Membership.status == "正常"))},
        "C": {m.id for m in mine.where(Membership.status == "转入审核中")},
        "D": {m.id for m in Membership.select().where((Membership.org == union.id) & (Membership.synced == False)  # noqa: E712
                                                      & (Membership.status == "正常"))},
    }
    assert direct["A"] == {a.id, a_pending.id} and direct["D"] == {m.id for m in gone}
    assert len(direct["B"]) == 2 and len(direct["C"]) == 2
    assert TransferRequest.select().where(TransferRequest.job == job.id).count() == 2

    page = soup(client.get(f"/members/sync/{job.id}"))
    for key in "ABCD":
        cell = page.select_one(f"#sync-classes tr.class-{key} .count a")
        url = f"/members/sync/{job.id}/{key}"
        assert cell["href"] == url
        total, ids = listed_ids(client, url)
        assert total == int(cell.get_text()) == len(direct[key]), key
        assert ids == direct[key], key
    d_first = soup(client.get(f"/members/sync/{job.id}/D"))
    assert d_first.select_one(".pager-summary").get_text() == "显示第 1 到第 15 条记录，总共 17 条记录"
    # C: the transfer requests with 转出单位 and 审核状态; numbers masked
    c_page = soup(client.get(f"/members/sync/{job.id}/C"))
    headers = [th.get_text() for th in c_page.select("#people-list th")]
    assert headers == ["会员编号", "姓名", "证件号码", "转出单位", "审核状态", "用户状态", "同步会员", "操作"]
    cells = [[td.get_text() for td in tr.select("td")] for tr in c_page.select("#people-list tbody tr")]
    assert {c[1] for c in cells} == {c1.person.name, c2.person.name}
    assert {(c[3], c[4], c[5]) for c in cells} == {(other.name, "待审核", "转入审核中")}
    assert c1.person.id_number not in c_page.get_text()
    b_page = soup(client.get(f"/members/sync/{job.id}/B"))
    assert [th.get_text() for th in b_page.select("#people-list th")] == [
        "会员编号", "姓名", "证件号码", "用户状态", "同步会员", "操作"]
    assert b_new.id_number not in b_page.get_text() and b_new.name in b_page.get_text()
    # E: the download; errors: the error table on the same page
    e_cell = page.select_one("#sync-classes tr.class-E .count a")
    assert e_cell["href"] == f"/members/sync/{job.id}/new" and e_cell.get_text() == "1"
    new_rows = list(load_workbook(io.BytesIO(client.get(e_cell["href"]).data)).worksheets[0].iter_rows(
        min_row=2, values_only=True))
    assert len([r for r in new_rows if r[0]]) == 1
    error_cell = page.select_one("#sync-classes .sync-error-count .count a")
    assert error_cell["href"] == "#sync-errors" and error_cell.get_text() == "2"
    assert len(page.select("#sync-errors tbody tr")) == 2

    fragment = client.get(f"/members/sync/{job.id}/D?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and soup(fragment).find("html") is None
    assert len(soup(fragment).select("#people #people-list tbody tr")) == 2
    for stranger in (as_role("grassroots", 1), as_role("grassroots", 2), as_role("district", 1)):
        for key in "ABCD":
            assert stranger.get(f"/members/sync/{job.id}/{key}").status_code == 404
    assert as_role("district", 0).get(f"/members/sync/{job.id}/A").status_code == 200  # its superior
    assert client.get(f"/members/sync/{job.id}/E").status_code == 404  # E is the download


def test_class_pages_wait_for_the_compare_and_other_jobs_go_to_their_page(city, union, client):
    running = Job.create(kind=compare.KIND, title="同步会员", org=union, owner=city.account("grassroots"))
    assert client.get(f"/members/sync/{running.id}/A").status_code == 409
    other = factories.make_job(union, city.account("grassroots"))
    response = client.get(f"/members/sync/{other.id}/B")
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{other.id}"
