"""上传本地参保名单文件 (spec 70, seed 004; issue 18 item 4): a batch's roster from the unit's own
file, on the import pipeline every upload follows (models/io/uploads.py, models/jobs.py).

- 下载参保名单导入模板: 姓名*, 证件类型*, 证件号码*, 性别, 出生日期, 是否有社保 (the last column:
  是 / 否, seed 004 FAQ); non-ID-card documents need 出生日期 and 性别 (models/rules/aid_people).
  The template's format must be kept (seed 004: "请保持模板表格格式不变，否则会上传失败"): another
  header is refused as a whole file at once, "模板格式不正确…", and nothing is queued.
- The job (like 批量导入会员, models/members/member_import.py) reads the file as it is parsed
  (`stream_table`) and checks it in chunks of CHUNK rows; each chunk's checked rows are staged
  (JobChunk) with the job's checkpoint in one transaction, so a killed job resumes after its last
  chunk. Row checks: the person's fields (clean_person), an ID number twice in the file, a person
  already in this batch or held this protection year by another unit (naming that unit and its
  handler's contact, roster_ops.holder_message).
- Valid rows go in, rejected rows come back in the error file (the template's columns, 错误行号,
  错误原因) to fix and upload again — as 批量导入会员 and 社保状态导入 do. Before the rows go in the
  建议清册 (the configured RegistrySource) and the 会员库 are asked for them and the rows are
  written already matched (registry.matched: the rule of registry.match_entries), all in ONE
  transaction with the audit row and the checkpoint "applied"; a remote 建议清册 that fails fails
  the job with its Chinese reason and writes nothing (重试 resumes from the staged chunks).
- Only for a batch of the account's own code, while the batch is 清册待校验 / 清册校验不通过 —
  checked when the file is uploaded and again when the rows go in.
"""

import peewee as pw

from models import db
from models.audit import AuditLog
from models.base import DomainError, now, today
from models.io import uploads
from models.io.bulk import bulk_insert
from models.io.columns import column, gender_of, normalized, plain_resident_ids
from models.io.error_file import FailedRow, error_workbook
from models.io.formats import _csv, _text, _xls, _xlsx, keep_for_job, sniff
from models.io.tables import lost_digits, lost_digits_message, stream_table
from models.io.templates import notes_sheet, template_sheet, workbook_bytes
from models.job_queue import runs_here
from models.jobs import FULL_NUMBER_KINDS, staged_import
from models.mutual_aid import registry
from models.mutual_aid.batch_ops import claim
from models.mutual_aid.batches import (
    EDITABLE,
    ID_TYPES,
    IN_SERVICE,
    RESIDENT_ID,
    UNKNOWN,
    UPLOADED,
    AidBatch,
    RosterEntry,
)
from models.mutual_aid.roster_ops import LOCKED, handlers_of, holder_message, holders
from models.orgs.accounts import Account
from models.rules.aid_people import PersonError, clean_person
from models.rules.text import mask, mask_text, normalize, parse_day

KIND = "mutual_aid_roster_import"
TITLE = "上传本地参保名单文件"
COLUMNS = ["姓名", "证件类型", "证件号码", "性别", "出生日期", "是否有社保"]
TEMPLATE_HEADER = ["姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "是否有社保"]
TEXT_COLUMNS = ("证件号码", "出生日期")
MAX_ROWS = 100_000  # the page promises 50,000 a file (the old system: 5,000)
PROMISED_ROWS = 50_000
CHUNK = 2_000  # rows checked and staged per transaction
ID_ALIASES = {"身份证": RESIDENT_ID, "居民身份证号码": RESIDENT_ID}
WRONG_TEMPLATE = ("模板格式不正确，请点击“下载参保名单导入模板”，按模板填写（保持模板表格格式不变）后重新上传"
                  "（表头应为：" + "、".join(COLUMNS) + "）")
NOT_MINE = "只能为本账号参保编码的参保批次上传参保名单"
NO_ROWS = "文件中没有参保人员数据（请从第二行开始填写）"
EXPLANATION = [
    ("姓名*", "必填，与证件上的姓名一致。建议清册中若存在此人，姓名会以建议清册中的社保姓名为准"),
    ("证件类型*", "必填，可选：" + "、".join(ID_TYPES)),
    ("证件号码*", "必填。居民身份证为18位，末位X大写；本列已设为文本格式，请勿改为数字格式，否则末尾数字会丢失"),
    ("性别", "男 或 女。居民身份证按号码核对；证件类型为非身份证的（例如：护照、港澳台居住证等）必填"),
    ("出生日期", "如 1990-01-31。居民身份证按号码核对；证件类型为非身份证的必填"),
    ("是否有社保", "是 或 否（不填视为否）。选择“是”，该人员的职退状态为“在职”，可参加保障项目A0"),
    ("", ""),
    ("注意事项", f"请从第二行开始填写，每个文件最多{PROMISED_ROWS}人；支持 .xlsx、.xls 和 CSV（UTF-8 或 GBK）"),
    ("", "请保持模板表格格式不变（不要增删、改名或调换列），否则会上传失败"),
    ("", "一个证件号码在一个保障年度只能参保一次；已被其他单位参保的人员不会导入，"
         "错误文件中列出占用单位及其经办人联系方式"),
    ("", "有错误的行不导入，其余行正常导入；请下载错误文件，按“错误原因”修改后重新上传该文件"),
]


FULL_NUMBER_KINDS.add(KIND)  # the error file holds whole ID numbers: not for the read-only 市总工会


# --- who may upload, the template, the header ------------------------------------------------------
def upload_refusal(batch: AidBatch, account) -> str | None:
    """Why `account` may not add people to `batch` by file now (None: it may)."""
    if batch.code.account_id != getattr(account, "id", None):
        return NOT_MINE
    if batch.status not in EDITABLE:
        return LOCKED.format(batch.status)
    return None


def template_workbook() -> bytes:
    """下载参保名单导入模板."""
    from openpyxl.worksheet.datavalidation import DataValidation
    workbook, sheet = template_sheet("参保名单", TEMPLATE_HEADER, 20, text_columns=["C", "E"])
    last = PROMISED_ROWS + 1
    for letter, choices in (("B", ID_TYPES), ("D", ("男", "女")), ("F", ("是", "否"))):
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        rule.error = "请从下拉列表中选择"
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{last}")
    notes_sheet(workbook, EXPLANATION, widths=(16, 100), bold=True)
    return workbook_bytes(workbook)


def checked_header(header: list) -> list:
    """The header's columns when it is the template's (an error file's 错误行号 / 错误原因 and empty
    columns after it aside); the whole-file refusal otherwise."""
    names = [str(h).strip().strip("*").strip() for h in header]
    names = ["" if n in ("错误行号", "错误原因") else n for n in names]
    if [n for n in names if n] != COLUMNS or names[:len(COLUMNS)] != COLUMNS:
        raise DomainError(WRONG_TEMPLATE, 422)
    return names


def first_row(data: bytes) -> list:
    """The header of the upload, read before the file is queued; a file with no data row under
    it is refused."""
    kind = sniff(data)
    # the parsed sheet is kept for a job that runs in this process, once the file passed (formats.py)
    parsed = [] if runs_here() else None
    rows = _csv(data) if kind == "csv" else {"xlsx": _xlsx, "xls": _xls}[kind](data, keep=parsed)
    header = None
    try:
        for _number, cells in rows:
            cells = [_text(c) for c in cells]
            if not any(cells):
                continue
            if header is not None:
                keep_for_job(parsed or [])
                return header
            header = checked_header(cells)
    finally:
        rows.close()
    raise DomainError(NO_ROWS if header else "文件中没有表头和数据", 422)


def submit(batch: AidBatch, account: Account, data: bytes, file_name: str):
    """Refuse at once what costs nothing to find (not this account's batch, a locked roster, not a
    table file, the wrong template); store the file and queue the job."""
    refusal = upload_refusal(batch, account)
    if refusal:
        raise DomainError(refusal, 403 if refusal == NOT_MINE else 409)
    uploads.check_name(data, file_name)
    first_row(data)
    return uploads.submit(KIND, account, data, file_name, batch=batch.id)


# --- checking rows --------------------------------------------------------------------------------
def values_of(row: dict) -> dict:
    """A staged row's cells as uploaded, by column."""
    return dict(zip(COLUMNS, row["v"], strict=True))


class Checker:
    """Checks rows for one batch in file order; remembers the first row of each ID number (in-file
    duplicates across chunks)."""

    def __init__(self, batch: AidBatch, on=None):
        self.batch = batch
        self.on = on or today()
        self.first_id: dict = {}

    def remember(self, part: list) -> None:
        for row in part:
            if row.get("id"):
                self.first_id.setdefault(row["id"], row["row"])

    def check(self, rows) -> list:
        """rows: [(row number, {column: cell})] → the staged rows (JSON-ready dicts). The plain
        rows (`_plain`) skip the row-by-row checks of `_parse`."""
        plain = self._plain(rows)
        parsed = [self._parse(number, values) if row is None else self._first(row)
                  for (number, values), row in zip(rows, plain, strict=True)]
        keyed = [r for r in parsed if "p" in r]
        refuse_held(self.batch, keyed)
        return parsed

    def _first(self, row: dict) -> dict:
        first = self.first_id.setdefault(row["id"], row["row"])
        if first != row["row"]:
            del row["p"]
            row["errors"] = [f"证件号码：与第{first}行证件号码重复"]
        return row

    def _plain(self, rows) -> list:
        """Each row's staged dict when every cell is plain (证件类型 居民身份证 or empty, a plain
        身份证 number, a plain name of at most 50 characters, 性别 and 出生日期 empty or the number's,
        是否有社保 是 / 否 / empty), else None — column by column (models/io/columns.py)."""
        if not rows:
            return []
        values = [v for _, v in rows]
        cells = [[c if type(c) is str else str(c) for c in column(values, name)] for name in COLUMNS]
        names, types, numbers, genders, births, has = cells
        born = plain_resident_ids(column(values, "证件号码"), self.on)  # a number cell is never plain
        plain_names = normalized(names)
        resident = {"", RESIDENT_ID, *(k for k, v in ID_ALIASES.items() if v == RESIDENT_ID)}
        out = []
        for (number, _), v, t, n, b, name, g, d, h in zip(rows, zip(*cells, strict=True), types, numbers, born,
                                                           plain_names, genders, births, has, strict=True):
            if b is None or t not in resident or not name or len(name) > 50 or h not in ("", "是", "否"):
                out.append(None)
                continue
            gender = gender_of(n)
            if (g and g != gender) or (d and d != (iso := b.isoformat()) and parse_day(d) != b):
                out.append(None)
                continue
            out.append({"row": number, "v": list(v), "id": n,
                        "p": [RESIDENT_ID, n, name, gender, iso if d else b.isoformat(), h == "是"]})
        return out

    def _parse(self, number: int, values: dict) -> dict:
        row, reasons = {"row": number, "v": [str(values.get(c, "")) for c in COLUMNS]}, []
        raw_id = values.get("证件号码", "")
        birth_text = values.get("出生日期", "")
        birth = parse_day(birth_text) if birth_text else None
        has = normalize(values.get("是否有社保"))
        if lost_digits(raw_id):
            reasons.append("证件号码：" + lost_digits_message())
        if birth_text and birth is None:
            reasons.append("出生日期：格式应为 年-月-日（如 1990-01-31）")
        if has not in ("", "是", "否"):
            reasons.append("是否有社保：只能填写“是”或“否”")
        if not reasons:
            id_type = normalize(values.get("证件类型"))
            try:
                p = clean_person(ID_ALIASES.get(id_type, id_type), raw_id, values.get("姓名"), values.get("性别"),
                                 birth, has == "是", id_types=ID_TYPES, today=self.on)
            except PersonError as exc:
                reasons.append(exc.message)
            else:
                first = self.first_id.setdefault(p.id_number, number)
                row["id"] = p.id_number
                if first != number:
                    reasons.append(f"证件号码：与第{first}行证件号码重复")
                else:
                    row["p"] = [p.id_type, p.id_number, p.name, p.gender, p.birth_date.isoformat(),
                                p.has_social_insurance]
        if reasons:
            row.pop("p", None)
            row["errors"] = reasons
        return row


def refuse_held(batch: AidBatch, rows: list) -> None:
    """Rows whose person is already in this batch or held this protection year by another unit
    become rejected rows naming the holder (one query for the holders, one for their handlers)."""
    held = holders(batch.year_id, [r["id"] for r in rows])
    if not held:
        return
    handlers = handlers_of(held.values())
    for r in rows:
        entry = held.get(r["id"])
        if entry is not None:
            name = r.pop("p")[2]
            r["errors"] = [holder_message(entry, name, batch, handlers)]


def error_file(failed: list) -> bytes:
    """The rejected rows in the template's columns, then 错误行号 and 错误原因: fix, upload again."""
    return error_workbook(COLUMNS, [FailedRow(r["row"], values_of(r), r["errors"]) for r in failed],
                          header=TEMPLATE_HEADER, text_columns=TEXT_COLUMNS)


# --- the job --------------------------------------------------------------------------------------
@staged_import(KIND, TITLE)
def run_import(ctx):
    params = ctx.params
    account = Account.get_or_none(Account.id == params.get("account"))
    batch = AidBatch.get_or_none(AidBatch.id == params.get("batch"))
    if batch is None:
        raise DomainError("该参保批次已删除，参保名单未导入", 404)
    refusal = upload_refusal(batch, account)
    if refusal:
        raise DomainError(refusal + "，参保名单未导入", 409)
    data = uploads.upload_bytes(params, gone=True)
    checker = Checker(batch)
    done = int(ctx.checkpoint.get("chunks", 0))
    checked = ctx.staged(done, checker.remember)
    total, chunks = _check_file(ctx, data, checker, done, checked)
    return _apply(ctx, batch, account, checked, total, chunks)


def _chunked(stream):
    chunk, width, header = [], len(stream.header), stream.header
    every = "" not in header  # the template's columns alone: a row's dict by zip, in C
    named = [(i, h) for i, h in enumerate(header) if h]
    for number, cells in stream.rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        chunk.append((number, dict(zip(header, cells, strict=False)) if every else {h: cells[i] for i, h in named}))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_file(ctx, data: bytes, checker: Checker, done: int, checked: list):
    """Check and stage the chunks after the first `done`; (rows, chunks). A file found bad as it is
    read leaves nothing staged."""
    stream = stream_table(data, [], max_rows=MAX_ROWS)
    total = seq = 0
    try:
        stream.header = checked_header(stream.header)
        hint = stream.size_hint
        for seq, rows in enumerate(_chunked(stream)):
            total += len(rows)
            if seq < done:
                continue
            part = checker.check(rows)
            ctx.stage(seq, part, total, hint if hint is not None and hint >= total else 0)
            checked.extend(part)
        if not total:
            raise DomainError(NO_ROWS, 422)
        ctx.save_progress(total, total)
    except DomainError:
        ctx.reset_staged()
        raise
    finally:
        stream.close()
    return total, seq + 1


def _apply(ctx, batch: AidBatch, account, checked: list, total: int, chunks: int) -> dict:
    good = [r for r in checked if "p" in r]
    refuse_held(batch, good)  # held since the chunk was checked (another unit, another upload)
    good = [r for r in good if "p" in r]
    numbers = [r["id"] for r in good]
    payers = registry.lookup(numbers)  # a remote that fails raises here: nothing written, chunks kept
    members = registry.member_names(numbers)
    failed = [r for r in checked if r.get("errors")]
    at = now()
    entries = []
    for r in good:
        id_type, number, name, gender, birth, has = r["p"]
        entries.append({"batch": batch.id, "year": batch.year_id, "id_type": id_type, "id_number": number,
                        "imported_name": name, "gender": gender, "birth_date": birth,  # as staged: YYYY-MM-DD
                        "has_social_insurance": has, "source": UPLOADED, "active": True, "created_at": at,
                        **registry.matched(name, IN_SERVICE if has else UNKNOWN, payers.get(number),
                                           members.get(number, ""))})
    summary = f"共{total}行，导入参保人员{len(entries)}人"
    summary += (f"，{len(failed)}行有错误未导入，请下载错误文件，按“错误原因”修改后重新上传该文件。"
                if failed else "。")
    try:
        with db.atomic():
            # The roster must still be open when the rows go in (清册提交 meanwhile locks it): the batch
            # row taken first (batch_ops.claim), so a 清册提交 at this instant re-checks after us or refuses us.
            try:
                claim(batch, EDITABLE)
            except DomainError:
                current = AidBatch.get_or_none(AidBatch.id == batch.id)
                raise DomainError(LOCKED.format(current.status if current else "已删除") + "，参保名单未导入",
                                  409) from None
            bulk_insert(RosterEntry, entries)
            result = uploads.result(
                ctx, total, summary, len(failed), imported=len(entries), batch=batch.id,
                matched=sum(1 for e in entries if e["registry_matched"]),
                errors=[{"row": r["row"], "name": r["v"][0], "id_number": mask(r["v"][2]),
                         "reason": mask_text("；".join(r["errors"]))} for r in failed[:uploads.SHOWN]],
                error_file=error_file(failed) if failed else None, prefix="roster-import",
                download_name="参保名单导入错误数据.xlsx")
            AuditLog.record(TITLE, batch, account=account,
                            detail={"文件": ctx.params.get("file_name", ""), "行数": total,
                                    "导入": len(entries), "错误行数": len(failed)})
            ctx.applied(total, chunks, result)
    except pw.IntegrityError:
        ctx.reset_staged()
        raise DomainError("导入期间有人员被其他单位（或本单位的其他操作）同时参保，本次未导入任何人员，"
                          "请重新上传该文件", 409) from None
    except DomainError:
        ctx.reset_staged()
        raise
    return result
