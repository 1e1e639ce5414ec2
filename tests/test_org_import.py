"""组织导入: thousands of rows in every accepted format; an error file that is fixed and uploaded
again; nothing half-imported."""

import io
import time

import pytest
from openpyxl import load_workbook

from models.demo import uscc
from models.orgs.org_import import COLUMNS
from models.orgs.organizations import Organization
from tests import factories
from tests.factories import ORG_IMPORT_HEADER, tablefiles
from tests.helpers import job_of, post_file, soup, upload_job
from tests.test_orgs import closure_of_parents, closure_rows


def tree_rows(city, n, prefix):
    """n rows: streets under the existing district, grassroots unions under those streets
    (parents in the same file, some listed after their children)."""
    import random
    rng = random.Random(n)
    district = city.orgs["district1"].name
    streets = [f"{prefix}街道{i}总工会" for i in range(max(1, n // 100))]
    code = prefix if prefix.isascii() else "T"
    rows = [ORG_IMPORT_HEADER]
    unions = [[f"{prefix}公司{i}工会委员会", streets[i % len(streets)], "工会委员会", "", uscc(rng, "81"),
               f"{code}-{i}", "上海市某路", "张三", "13900000000"] for i in range(n - len(streets))]
    street_rows = [[s, district, "街道总工会", "", "", "", "", "", "021-63301234"] for s in streets]
    half = len(unions) // 2
    return rows + unions[:half] + street_rows + unions[half:]


def upload(client, data, name):
    return upload_job(client, "/orgs/import", data, name)


@pytest.mark.parametrize("fmt", tablefiles.FORMATS)
def test_thousands_of_rows_in_every_format(as_role, city, fmt):
    n = 2000
    data, name = tablefiles.write(tree_rows(city, n, fmt), fmt)
    before = Organization.select().count()
    started = time.monotonic()
    job = upload(as_role("district"), data, name)
    assert job.status == "已完成", job.errors
    assert job.result_data["imported"] == n, job.result_data
    assert Organization.select().count() == before + n
    assert time.monotonic() - started < 60
    district = city.orgs["district1"]
    assert district.subtree().where(Organization.name.startswith(fmt)).count() == n
    leaf = Organization.get(Organization.name == f"{fmt}公司7工会委员会")
    assert [a.name for a in leaf.ancestors()] == ["测试市总工会", district.name, f"{fmt}街道7总工会"]
    assert leaf.level == "grassroots" and leaf.union_no == f"{fmt.upper()}-7"
    assert closure_rows() == closure_of_parents()  # the closure rows the database computed (one INSERT … SELECT a wave)


def test_error_file_fixed_and_uploaded_again(as_role, city):
    client = as_role("district")
    rows = tree_rows(city, 300, "改")
    rows[5][4] = "91310000MA1FL0000X"  # wrong check digit
    rows[6][0] = rows[7][0]  # duplicate name
    rows[8][1] = "不存在的上级工会"
    rows[9][2] = "工会小组"  # unknown type
    rows[10][8] = "12345"  # bad phone
    data, name = tablefiles.write(rows, "xlsx")
    before = Organization.select().count()
    job = upload(client, data, name)
    result = job.result_data
    assert job.status == "已完成" and result["imported"] == 0 and result["failed"] == 5
    assert Organization.select().count() == before  # nothing half-imported
    page = soup(client.get(f"/jobs/{job.id}"))
    assert "其中5行有错误，全部未导入" in page.get_text()
    link = page.find("a", string="下载错误文件")
    download = client.get(link["href"])
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.data)).active
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == COLUMNS + ["错误行号", "错误原因"]
    assert [r[-2] for r in got[1:]] == list(range(2, len(rows) + 1))  # every row, with its row in the upload
    reasons = {r[0]: r[-1] for r in got[1:] if r[-1]}
    assert "统一社会信用代码校验位不正确，请核对" in reasons[rows[5][0]]
    assert any("组织名称与第" in v for v in reasons.values())
    assert "上级组织「不存在的上级工会」不存在或不在本单位管辖范围内" in reasons[rows[8][0]]
    assert "工会类型不正确" in reasons[rows[9][0]]
    assert "联系电话格式不正确" in reasons[rows[10][0]]
    assert len(got) == len(rows)  # every row comes back, the bad ones marked

    # the operator fixes the marked rows in the error file and uploads it again
    wb = load_workbook(io.BytesIO(download.data))
    ws = wb.active
    for row in ws.iter_rows(min_row=2):
        if not row[-1].value:
            continue
        row[0].value = row[0].value + "（改）" if "组织名称与第" in row[-1].value else row[0].value
        row[1].value = city.orgs["district1"].name if "上级组织「" in row[-1].value else row[1].value
        row[2].value = "工会委员会" if "工会类型" in row[-1].value else row[2].value
        if "统一社会信用代码" in row[-1].value:
            row[4].value = uscc(__import__("random").Random(5), "81")
        row[8].value = "13912345678" if "联系电话" in row[-1].value else row[8].value
    fixed = io.BytesIO()
    wb.save(fixed)
    again = upload(client, fixed.getvalue(), "错误数据.xlsx")
    assert again.result_data == {**again.result_data, "imported": 300, "failed": 0}
    assert Organization.select().count() == before + 300


def test_cycles_in_the_file_are_refused(as_role, city):
    rows = [ORG_IMPORT_HEADER, ["甲工会", "乙工会", "街道总工会", "", "", "", "", "", ""],
            ["乙工会", "甲工会", "街道总工会", "", "", "", "", "", ""]]
    data, name = tablefiles.write(rows, "csv-utf8")
    job = upload(as_role("district"), data, name)
    assert job.result_data["failed"] == 2
    assert not Organization.select().where(Organization.name.in_(["甲工会", "乙工会"])).exists()


@pytest.mark.parametrize("data,name,message", [
    (b"", "x.xlsx", "上传的文件是空的"),
    (b"PK\x03\x04 broken zip", "x.xlsx", "文件已损坏"),
    ("名称,地址\n甲,乙\n".encode(), "x.csv", "文件缺少必需的列：组织名称、上级组织、工会类型"),
    (b"\x00\x01\x02binary", "x.csv", "无法读取该文件"),
])
def test_malformed_files_get_a_chinese_reason(as_role, city, data, name, message):
    client = as_role("district")
    response = post_file(client, "/orgs/import", data, name)
    if response.status_code == 302:
        job = job_of(response)
        assert job.status == "失败"
        assert message in job.error_list[0]
    else:
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


def test_rows_outside_the_district_are_refused(as_role, city):
    rows = [ORG_IMPORT_HEADER, ["越界工会委员会", city.orgs["secondary2"].name, "工会委员会", "", "", "", "", "", ""]]
    data, name = tablefiles.write(rows, "xlsx")
    job = upload(as_role("district"), data, name)
    assert job.result_data["failed"] == 1


def test_template_has_the_columns_explanation_and_dropdowns(as_role):
    response = as_role("district").get("/orgs/import/template")
    wb = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb["组织导入"][1]] == ORG_IMPORT_HEADER
    assert wb["数据说明"]["A2"].value == "组织名称"
    validations = wb["组织导入"].data_validations.dataValidation
    assert any("工会委员会" in (v.formula1 or "") for v in validations)


def test_only_district_level_imports(as_role):
    assert as_role("grassroots").get("/orgs/import").status_code == 403
    assert as_role("secondary").post("/orgs/import").status_code == 403


__all__ = ["factories"]
