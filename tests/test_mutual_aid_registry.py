"""建议清册 (issue 18 item 5): the centre's 建议清册导入 (payers and units, upserting, an error file
fixed and uploaded again, a killed job resumed, centre only) and what the roster takes from it —
registry.match_entries (the 社保姓名 replaces the name, the 会员库 name kept beside it, unmatched
people "-") and registry.linked_payers (rule 3's payers summed over the matched people's codes)."""

import io
import json

import pytest
from openpyxl import load_workbook

from models.jobs import DONE, Job, JobChunk, JobContext
from models.mutual_aid import registry, registry_import, roster_ops
from models.mutual_aid.batches import TO_CHECK, RosterEntry
from models.mutual_aid.registry import RegistryPayer, RegistryUnit
from models.storage import stored_file
from tests import factories
from tests.factories import tablefiles
from tests.factories.memberfiles import id_number
from tests.factories.mutual_aid import approved_code, batch_in, person
from tests.helpers import post_file, soup, upload_job

URL = "/mutual-aid/registry"
PAYER_HEADER = ["单位社保编码", "证件号码", "姓名", "职退状态"]
UNIT_HEADER = ["单位社保编码", "单位名称", "缴费人数"]


def payer_rows(n: int, start: int = 0, code=lambda i: f"SB{i % 7:03d}") -> list:
    return [[code(i), id_number(i), f"社保{i}", "退休" if i % 10 == 0 else "在职"] for i in range(start, start + n)]


def test_the_centre_imports_payers_and_a_later_file_replaces_a_persons_row(as_role):
    client = as_role("centre")
    template = client.get(f"{URL}/template?kind={registry_import.PAYERS}")
    assert [c.value for c in load_workbook(io.BytesIO(template.data)).worksheets[0][1]] == PAYER_HEADER
    rows = payer_rows(4000)
    rows[3][1] = rows[3][1][:-1] + ("0" if rows[3][1][-1] != "0" else "1")  # a wrong check digit
    rows[5][3] = "离职"
    rows[8][0] = ""
    rows[20] = ["SB999", id_number(30), "后一行", "在职"]  # the ID of row 32 too: the later row wins
    job = upload_job(client, URL, *tablefiles.write([PAYER_HEADER] + rows, "csv-gbk"), kind=registry_import.PAYERS)
    assert job.status == DONE, job.error_list
    assert (job.result_data["rows"], job.result_data["failed"]) == (4000, 3)
    assert RegistryPayer.select().count() == 4000 - 3 - 1
    assert RegistryPayer.get(RegistryPayer.id_number == id_number(30)).name == "社保30"  # row 32 after row 22
    assert RegistryPayer.get(RegistryPayer.id_number == id_number(10)).employment == "退休"

    errors = load_workbook(io.BytesIO(client.get(f"/jobs/{job.id}/errors").data)).worksheets[0]
    assert [c.value for c in errors[1]] == PAYER_HEADER + ["错误行号", "错误原因"]
    fixed = [[c.value for c in row] for row in errors.iter_rows(min_row=2)]
    assert [r[4] for r in fixed] == [5, 7, 10]
    assert "职退状态" in fixed[1][5] and "单位社保编码" in fixed[2][5]
    fixed[0][1], fixed[1][3], fixed[2][0] = id_number(3), "在职", "SB001"
    again = upload_job(client, URL, *tablefiles.write([PAYER_HEADER] + [r[:4] for r in fixed], "xlsx"),
                       kind=registry_import.PAYERS)
    assert (again.result_data["imported"], again.result_data["failed"]) == (3, 0)
    assert RegistryPayer.select().count() == 4000 - 1

    moved = upload_job(client, URL, *tablefiles.write([PAYER_HEADER, ["SB777", id_number(1), "改名", "退休"]], "xls"),
                       kind=registry_import.PAYERS)
    assert moved.result_data["imported"] == 1
    row = RegistryPayer.get(RegistryPayer.id_number == id_number(1))
    assert (row.social_code, row.name, row.employment) == ("SB777", "改名", "退休")
    assert RegistryPayer.select().count() == 4000 - 1  # replaced, not added
    count = soup(client.get(URL)).select_one("#registry-payers")
    assert count.get_text() == f"{4000 - 1} 人"
    listed = soup(client.get(count.a["href"]))  # the count opens the rows behind it
    assert listed.select_one(".pager-summary").get_text().endswith(f"总共 {4000 - 1} 条记录")
    one = soup(client.get(f"{URL}/list?which=payers&q={id_number(1)}"))
    cells = [td.get_text() for td in one.select("#registry-rows tbody td")]
    assert cells[0] == "SB777" and cells[2] == "改名" and id_number(1) not in cells[1] and "*" in cells[1]
    assert len(soup(client.get(f"{URL}/list?which=payers&q=SB777")).select("#registry-rows tbody tr")) == 1
    assert client.get(f"{URL}/list?which=other").status_code == 404


def test_units_are_upserted_by_their_code(as_role):
    client = as_role("centre")
    rows = [["SB001", "甲公司", "120"], ["SB002", "乙公司", "8"], ["SB003", "丙公司", "-1"]]
    job = upload_job(client, URL, *tablefiles.write([UNIT_HEADER] + rows, "xlsx"), kind=registry_import.UNITS)
    assert (job.result_data["imported"], job.result_data["failed"]) == (2, 1)
    upload_job(client, URL, *tablefiles.write([UNIT_HEADER, ["SB001", "甲公司", "150"]], "csv-utf8"),
               kind=registry_import.UNITS)
    assert {(u.social_code, u.payers) for u in RegistryUnit.select()} == {("SB001", 150), ("SB002", 8)}


def test_a_wrong_file_is_refused_at_once_and_only_the_centre_imports(as_role, city):
    client = as_role("centre")
    response = post_file(client, URL, *tablefiles.write([UNIT_HEADER, ["SB1", "x", "1"]], "xlsx"),
                         kind=registry_import.PAYERS)
    assert response.status_code == 422
    assert "文件缺少必需的列：证件号码、姓名、职退状态" in response.get_data(as_text=True)
    assert post_file(client, URL, b"", "", kind=registry_import.PAYERS).status_code == 422
    assert post_file(client, URL, b"x", "a.csv", kind="other").status_code == 400
    data, name = tablefiles.write([UNIT_HEADER, ["SB1", "x", "1"]], "xlsx")
    reader = as_role("city")
    assert reader.get(URL).status_code == 200 and soup(reader.get(URL)).select_one("#file-aid_registry_units") is None
    assert post_file(reader, URL, data, name, kind=registry_import.UNITS).status_code == 403
    for role in ("district", "grassroots"):
        assert as_role(role).get(URL).status_code == 403
        assert post_file(as_role(role), URL, data, name, kind=registry_import.UNITS).status_code == 403
    with pytest.raises(Exception, match="只有上海市职工保障互助会可以导入建议清册"):
        registry_import.submit(registry_import.UNITS, city.account("grassroots"), data, name)
    assert not Job.select().exists() and RegistryUnit.select().count() == 0


class Killed(Exception):
    pass


class DiesAfterFirstChunk(JobContext):
    def save_progress(self, done, total=None, checkpoint=None):
        if checkpoint and checkpoint.get("chunks", 0) >= 2:
            raise Killed("worker killed")
        super().save_progress(done, total, checkpoint)


def test_a_killed_registry_import_resumes_after_its_last_written_chunk(city):
    centre = city.account("centre")
    n = registry_import.CHUNK * 2 + 10
    rows = payer_rows(n)
    rows[2][3] = "?"
    rows[registry_import.CHUNK + 3][3] = "?"
    data, name = tablefiles.write([PAYER_HEADER] + rows, "csv-utf8")
    stored_file("uploads", "registry-killed.bin").write_bytes(data)
    job = Job.create(kind=registry_import.PAYERS, title="建议清册缴费人员导入", owner=centre.id, org=centre.org_id,
                     status="运行中", params=json.dumps({"upload": "registry-killed.bin", "account": centre.id,
                                                        "file_name": name}))
    with pytest.raises(Killed):
        registry_import.run_payers(DiesAfterFirstChunk(job))
    assert RegistryPayer.select().count() == registry_import.CHUNK - 1  # the first chunk is in
    result = registry_import.run_payers(JobContext(Job.get_by_id(job.id)))
    assert (result["imported"], result["failed"]) == (n - 2, 2)
    assert [e["row"] for e in result["errors"]] == [4, registry_import.CHUNK + 5]
    assert RegistryPayer.select().count() == n - 2
    assert not JobChunk.select().where(JobChunk.job == job.id).exists()
    assert registry_import.run_payers(JobContext(Job.get_by_id(job.id))) == result


# --- what the roster takes from it ------------------------------------------------------------------
def test_match_entries_takes_the_registry_name_and_status_and_keeps_the_member_name(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    factories.make_member(city.orgs["grassroots1"], id_number=id_number(2), name="会员库名")
    roster_ops.add_entries(batch, [person(1), person(2), person(3, has_social_insurance=True), person(4)],
                           code.account)
    RegistryPayer.create(social_code="SB001", id_number=id_number(1), name="社保名", employment="退休")
    RegistryPayer.create(social_code="SB002", id_number=id_number(2), name="参保人2", employment="在职")
    assert registry.match_entries(batch) == 2  # the two the 建议清册 or the 会员库 know
    by_number = {e.id_number: e for e in RosterEntry.select().where(RosterEntry.batch == batch.id)}
    one, two, three, four = (by_number[id_number(i)] for i in (1, 2, 3, 4))
    assert (one.name, one.imported_name, one.registry_name, one.employment, one.social_code) == (
        "社保名", "参保人1", "社保名", "退休", "SB001")
    assert one.registry_matched and not one.name_warning  # replaced automatically: nothing to confirm
    assert (two.name, two.member_name, two.registry_name, two.name_warning) == ("参保人2", "会员库名", "参保人2", True)
    assert (three.registry_matched, three.employment) == (False, "在职")  # 是否有社保 = 是 stays 在职
    assert (four.registry_matched, four.employment, four.social_code) == (False, "-", "")
    assert registry.match_entries(batch) == 0  # a second run changes nothing
    RegistryPayer.delete().where(RegistryPayer.id_number == id_number(1)).execute()
    assert registry.match_entries(batch, [one.id]) == 1
    one = RosterEntry.get_by_id(one.id)
    assert (one.registry_matched, one.employment, one.social_code, one.name) == (False, "-", "", "社保名")


def test_linked_payers_sums_the_codes_of_the_matched_people(city):
    code = approved_code(city, 1)
    batch = batch_in(code, TO_CHECK)
    roster_ops.add_entries(batch, [person(i) for i in range(1, 6)], code.account)
    assert registry.linked_payers(batch) == (0, [])
    for i, social in ((1, "SB001"), (2, "SB001"), (3, "SB002"), (4, "SB003")):
        RegistryPayer.create(social_code=social, id_number=id_number(i), name=f"参保人{i}")
    RegistryUnit.create(social_code="SB001", payers=4)
    RegistryUnit.create(social_code="SB002", payers=3)
    RegistryUnit.create(social_code="SB009", payers=100)  # nobody of this roster: not counted
    registry.match_entries(batch)
    assert registry.linked_payers(batch) == (7, ["SB001", "SB002", "SB003"])  # SB003 has no unit row: 0
    RosterEntry.update(active=False).where(RosterEntry.id_number == id_number(3)).execute()
    assert registry.linked_payers(batch) == (4, ["SB001", "SB003"])


def test_the_registry_page_takes_files_larger_than_the_other_uploads(app, as_role, monkeypatch):
    """建议清册导入 reads up to REGISTRY_UPLOAD_MAX_MB (the bureau's file of the whole city); every other
    upload, and this page for an account that may not use it, stays at UPLOAD_MAX_MB (413, in Chinese)."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    monkeypatch.setitem(app.config, "REGISTRY_UPLOAD_MAX_MB", 1)
    data, name = tablefiles.write([PAYER_HEADER] + payer_rows(3000), "csv-utf8")
    assert 64 * 1024 < len(data) < 1024 * 1024
    job = upload_job(as_role("centre"), URL, data, name, kind=registry_import.PAYERS)
    assert job.status == DONE and RegistryPayer.select().count() == 3000
    refused = post_file(as_role("district"), URL, data, name, kind=registry_import.PAYERS)
    assert refused.status_code == 413 and "不能超过64KB" in soup(refused).select_one(".refusal").get_text()
    other = post_file(as_role("grassroots"), "/members/import", data, name)
    assert other.status_code == 413 and "过大" in soup(other).select_one(".refusal").get_text()
    monkeypatch.setitem(app.config, "REGISTRY_UPLOAD_MAX_MB", 0)  # the centre's own limit applies to it too
    too_big = post_file(as_role("centre"), URL, data, name, kind=registry_import.PAYERS)
    assert too_big.status_code == 413 and "不能超过0KB" in soup(too_big).select_one(".refusal").get_text()
