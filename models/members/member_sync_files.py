"""同步会员 / 从其他工会转入: the files — the templates (下载会员比对模板, 从其他工会转入会员模板), the
class-E download in the member-import template (下载比对结果), the error list and 导出结果."""

import io
import json
import secrets
from collections import namedtuple

from models.io.bulk import chunks
from models.io.error_file import FailedRow, error_workbook
from models.io.excel import safe_cell
from models.io.templates import notes_sheet, workbook_bytes
from models.jobs import Job
from models.members.member_import import template_book
from models.members.people import ID_CARD, Membership, Person, TransferRequest
from models.orgs.organizations import Organization
from models.storage import stored_file

COLUMNS = ["姓名", "证件号码"]  # 下载会员比对模板
TRANSFER_COLUMNS = ["姓名", "证件号码", "转入原因"]  # 从其他工会转入会员到本工会
# 导出结果 (seed 001)
EXPORT_COLUMNS = ["姓名", "证件号码", "原所属单位", "原单位负责人", "原单位联系电话", "原单位所属区局", "审核状态",
                  "审核说明"]
JOINED_DIRECTLY = "已转入（无须审核）"


def template_workbook(columns: list | None = None, notes: list | None = None) -> bytes:
    """下载会员比对模板 (姓名, 证件号码 as text), with a 数据说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    columns = columns or COLUMNS
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "会员名单"
    sheet.append(columns)
    for i, cell in enumerate(sheet[1], start=1):
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 24 if i > 1 else 14
    letter = sheet.cell(1, columns.index("证件号码") + 1).column_letter
    sheet.column_dimensions[letter].number_format = "@"
    for row in range(2, 1002):  # 证件号码 as text: 18 digits survive
        sheet[f"{letter}{row}"].number_format = "@"
    notes_sheet(workbook, notes or [
        ("姓名", "必填，与系统中登记的姓名一致"),
        ("证件号码", "必填，身份证18位（15位老号码自动转换为18位）；请保持文本格式，不要存成数字"),
        ("说明", "请从第二行开始填写会员信息；一次上传本单位全部会员名单"),
    ])
    return workbook_bytes(workbook)


def transfer_template_workbook() -> bytes:
    return template_workbook(TRANSFER_COLUMNS, [
        ("姓名", "必填，与系统中登记的姓名一致（会员姓名和证件号码必须一致方能转入）"),
        ("证件号码", "必填，身份证18位；请保持文本格式，不要存成数字"),
        ("转入原因", "选填，不超过200个字"),
        ("说明", "表内只有一人即为单独转入，多人即为批量转入；会员信息必须存在于系统中方能导入；"
                 "最终导入结果需等待转出单位或者上级单位审核"),
    ])


def new_members_workbook(lines: list, org: Organization) -> bytes:
    """下载比对结果 (class E): the member-import template itself (its columns, dropdowns and
    数据说明), filled with what is known — "可以使用下载的表格直接作为会员导入模板上传" once
    手机号码 is filled in."""
    workbook = template_book(org)
    sheet = workbook.worksheets[0]
    code = org.union_no or org.uscc or ""
    for row, line in enumerate(lines, start=2):
        values = [safe_cell(line.name), ID_CARD if line.resident else "", line.id_number, "", line.gender,
                  safe_cell(org.name), code, "", ""]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row, column, value)
            if column in (3, 4):  # 证件号码, 手机号码 as text
                cell.number_format = "@"
    return workbook_bytes(workbook)


NewLine = namedtuple("NewLine", "name resident id_number gender")  # a kept class-E row


def new_members_file(job: Job, path) -> bool:
    """下载比对结果 made from the compare's kept class-E rows (`rows_file`) at `path`, the first time
    it is asked for (False: no rows kept — a compare from before they were, or they were removed
    with the results after the retention). Written under another name and renamed: two downloads
    at once each write a whole file."""
    rows_file = job.result_data.get("rows_file")
    source = stored_file("jobs", rows_file) if rows_file else None
    if source is None or not source.exists():
        return False
    lines = [NewLine(*row) for row in json.loads(source.read_text())]
    part = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    try:
        part.write_bytes(new_members_workbook(lines, job.org))
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)  # a failed build leaves no .part behind
    if not source.exists():  # the retention removed the results meanwhile (rows first): nor this file
        path.unlink(missing_ok=True)
        return False
    return True


ERRORS_TITLE = "导入信息有以下错误,请重新修改后导入（请在原名单中修改这些行，然后重新上传本单位全部会员名单）"


def errors_workbook(errors: list) -> bytes:
    """The error rows (错误行号 / 姓名 / 证件号码 / 错误信息) under a title line — so that this
    list is not mistaken for a roster if uploaded again (a compare needs the whole roster: a
    partial one would mark everyone else 同步会员 否)."""
    return error_workbook(["姓名", "证件号码"], [FailedRow(row, {"姓名": name, "证件号码": number}, [reason])
                                                for row, name, number, reason in errors],
                          text_columns=["证件号码"], listing=ERRORS_TITLE, reason_column="错误信息",
                          widths={"A": 10, "B": 16, "C": 24, "D": 60})


def export_rows(job: Job) -> list:
    """导出结果: the B and C rows of a compare in file order; 审核状态 / 审核说明 read live from the
    transfer requests of that job."""
    moved = job.result_data.get("moved", [])
    b_ids = [x[2] for x in moved if x[1] == "B"]
    orgs_needed = {x[3] for x in moved if x[1] == "B" and x[3]}
    memberships = {}
    for chunk in chunks(b_ids):
        for m in Membership.select(Membership, Person).join(Person).where(Membership.id.in_(chunk)):
            memberships[m.id] = m
    requests = {r.id: r for r in TransferRequest.select(TransferRequest, Person)
                .join(Person).where(TransferRequest.job == job.id)}
    orgs_needed |= {r.from_org_id for r in requests.values()}
    orgs = {}
    for chunk in chunks(sorted(orgs_needed)):
        orgs.update((o.id, o) for o in Organization.select().where(Organization.id.in_(chunk)))
    districts = {}
    district_ids = sorted({o.district_id for o in orgs.values() if o.district_id})
    for chunk in chunks(district_ids):
        districts.update((o.id, o.name) for o in Organization.select(Organization.id, Organization.name)
                         .where(Organization.id.in_(chunk)))
    rows = []
    for item in moved:
        if item[1] == "B":
            m = memberships.get(item[2])
            if m is None:
                continue
            source = orgs.get(item[3])
            rows.append([m.person.name, m.person.id_number, *_org_cells(source, districts),
                         JOINED_DIRECTLY, ""])
        else:
            r = requests.get(item[2])
            if r is None:
                continue
            rows.append([r.person.name, r.person.id_number, *_org_cells(orgs.get(r.from_org_id), districts),
                         r.status, r.note])
    return rows


def _org_cells(org, districts) -> list:
    if org is None:
        return ["", "", "", ""]
    return [org.name, org.contact, org.phone, districts.get(org.district_id, "")]


def export_workbook(job: Job) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "同步结果"
    sheet.append(EXPORT_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 20
    for row in export_rows(job):
        sheet.append([safe_cell(v) for v in row])
    for row in range(2, sheet.max_row + 1):
        sheet[f"B{row}"].number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
