"""建议清册导入 (issue 18 item 5): the centre fills the 建议清册 tables (models/mutual_aid/registry.py)
from the social-insurance bureau's files, as background jobs on the import pipeline
(models/io/uploads.py, models/jobs.py). Two files:

- 缴费人员 (payers): 单位社保编码, 证件号码, 姓名, 职退状态 (在职 / 退休 / -) → RegistryPayer;
- 社保单位 (units): 单位社保编码, 单位名称, 缴费人数 → RegistryUnit.

An import replaces what the tables hold for the same key (a person's row by 证件号码, a unit's by
单位社保编码): INSERT … ON CONFLICT DO UPDATE, a few thousand rows a statement, no query per row.
A file of 2,000,000 payers is read as a stream (CSV; an xlsx sheet holds at most 1,048,576 rows)
and written CHUNK rows a transaction, each with the job's checkpoint — a killed job resumes after
its last written chunk, and writing a chunk twice changes nothing (an upsert). The rejected rows
of each chunk are kept (JobChunk) and come back in one error file (the template's columns, 错误行号,
错误原因) to fix and upload again. A key twice in a file: the later row wins, as a later file does.
"""

import itertools
import json
import operator
import re

import peewee as pw

from models import db, is_postgres
from models.audit import AuditLog
from models.base import DomainError, now
from models.io import uploads
from models.io.bulk import COPY_PIECE, PG_CASTS, _converted, _copy_text, _Streamed, relaxed_commit
from models.io.columns import column, normalized, plain_resident_ids
from models.io.error_file import FailedRow, error_workbook
from models.io.formats import _csv, _text, keep_for_job, sniff
from models.io.tables import lost_digits, lost_digits_message, stream_table
from models.io.templates import notes_sheet, template_sheet, workbook_bytes
from models.job_queue import runs_here
from models.jobs import FULL_NUMBER_KINDS, JobChunk, bulk_work, job_kind
from models.mutual_aid.registry import RegistryPayer, RegistryUnit
from models.mutual_aid.registry_source import EMPLOYMENT, UNKNOWN
from models.orgs.accounts import Account
from models.rules.idnumber import IdError, check_other_id, check_resident_id
from models.rules.text import compact, normalize

PAYERS, UNITS = "aid_registry_payers", "aid_registry_units"
KINDS = {
    PAYERS: ("建议清册缴费人员导入", ["单位社保编码", "证件号码", "姓名", "职退状态"]),
    UNITS: ("建议清册社保单位导入", ["单位社保编码", "单位名称", "缴费人数"]),
}
TEMPLATE_NAMES = {PAYERS: "建议清册缴费人员导入模板.xlsx", UNITS: "建议清册社保单位导入模板.xlsx"}
MAX_ROWS = 2_500_000
CHUNK = 5_000  # rows upserted per transaction (with the checkpoint)
MAX_PAYERS = 10_000_000
CODE = re.compile(r"[0-9A-Z-]{1,20}")
_RESIDENT = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")
ONLY_CENTRE = "只有上海市职工保障互助会可以导入建议清册"
NOTES = {
    PAYERS: [("单位社保编码", "必填，缴费单位的社保编码（字母、数字或“-”，不超过20位）"),
             ("证件号码", "必填；居民身份证18位（15位老号码自动转换为18位）。本列已设为文本格式，请勿改为数字格式"),
             ("姓名", "必填，社保登记的姓名（参保清册中该人员的姓名以此为准）"),
             ("职退状态", "在职、退休 或 -（不明），不填视为 -"),
             ("", ""), ("注意事项", "同一证件号码再次导入时，以最后导入的一行为准（替换原有记录）"),
             ("", "支持 .xlsx、.xls 和 CSV（UTF-8 或 GBK）；Excel 每个工作表最多1048576行，更多请用 CSV 或分多个文件")],
    UNITS: [("单位社保编码", "必填，字母、数字或“-”，不超过20位"), ("单位名称", "选填，不超过100个字"),
            ("缴费人数", "必填，该社保编码的缴费人数（整数），用于清册校验规则3"),
            ("", ""), ("注意事项", "同一单位社保编码再次导入时，以最后导入的一行为准（替换原有记录）")],
}
FULL_NUMBER_KINDS.add(PAYERS)  # its error file holds whole ID numbers: not for the read-only 市总工会


def template_workbook(kind: str) -> bytes:
    title, columns = KINDS[kind]
    workbook, _sheet = template_sheet(title[:-2], columns, 20, all_text=kind == PAYERS)
    notes_sheet(workbook, NOTES[kind], widths=(16, 100), bold=True)
    return workbook_bytes(workbook)


def submit(kind: str, account: Account, data: bytes, file_name: str):
    """The centre's upload: refused at once for another account, a non-table file or a file
    without the template's columns; stored and queued otherwise."""
    if kind not in KINDS:
        raise DomainError("请选择导入的文件类型", 422)
    if not account.acts_for_centre:
        raise DomainError(ONLY_CENTRE, 403)
    uploads.check_name(data, file_name)
    parsed = [] if runs_here() else None  # the parsed sheet kept for a job in this process (formats.py)
    with _stream(data, kind, keep=parsed):
        pass
    keep_for_job(parsed or [])
    return uploads.submit(kind, account, data, file_name)


# --- reading ----------------------------------------------------------------------------------------
class _Rows:
    """The file's header (checked) and its data rows as (row number, [cells]), streamed."""

    def __init__(self, header, rows, hint, close=None):
        self.header, self.rows, self.hint, self._close = header, rows, hint, close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._close:
            self._close()


def _checked(header: list, kind: str) -> list:
    names = [str(h).strip().strip("*").strip() for h in header]
    names = ["" if n in ("错误行号", "错误原因") else n for n in names]
    missing = [c for c in KINDS[kind][1] if c not in names]
    if missing:
        raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}（请使用下载的{KINDS[kind][0]}模板）", 422)
    return names


def _stream(data: bytes, kind: str, keep: list | None = None) -> _Rows:
    """A CSV is read line by line (2,000,000 rows are not held at once); an xlsx or xls as
    stream_table reads it (python-calamine: the sheet at most 1,048,576 rows)."""
    if sniff(data) == "csv":
        rows = _csv(data)
        for _number, cells in rows:
            cells = [_text(c) for c in cells]
            if any(cells):
                header = _checked(cells, kind)
                return _Rows(header, _data(rows), data.count(b"\n"), rows.close)
        raise DomainError("文件中没有表头和数据", 422)
    stream = stream_table(data, [], max_rows=MAX_ROWS, keep=keep)
    try:
        header = _checked(stream.header, kind)
    except DomainError:
        stream.close()
        raise
    return _Rows(header, iter(stream), stream.size_hint, stream.close)


def _data(rows):
    count = 0
    for number, cells in rows:
        cells = [_text(c) for c in cells]
        if any(cells):
            count += 1
            if count > MAX_ROWS:
                raise DomainError(f"文件超过{MAX_ROWS}行，请拆分后分批导入", 422)
            yield number, cells


# --- checking a chunk -------------------------------------------------------------------------------
def id_of(raw) -> str:
    """A registry ID number normalised as the roster normalises it (15 → 18 digits)."""
    text = compact(raw).upper()
    if _RESIDENT.fullmatch(text):
        return check_resident_id(text, now().date()).number
    return check_other_id(text)


def check_payer(values: dict) -> tuple[dict | None, list]:
    reasons = []
    code = compact(values.get("单位社保编码")).upper()
    if not CODE.fullmatch(code):
        reasons.append("单位社保编码：必填，字母、数字或“-”，不超过20位")
    number = None
    if lost_digits(values.get("证件号码")):
        reasons.append("证件号码：" + lost_digits_message())
    else:
        try:
            number = id_of(values.get("证件号码"))
        except IdError as exc:
            reasons.append(f"证件号码：{exc.message}")
    name = normalize(values.get("姓名"))
    if not name or len(name) > 50:
        reasons.append("姓名：必填，不超过50个字")
    employment = normalize(values.get("职退状态")) or UNKNOWN
    if employment not in EMPLOYMENT:
        reasons.append(f"职退状态：“{employment}”不正确，可选：在职、退休、-")
    if reasons:
        return None, reasons
    return {"social_code": code, "id_number": number, "name": name, "employment": employment}, []


def check_unit(values: dict) -> tuple[dict | None, list]:
    reasons = []
    code = compact(values.get("单位社保编码")).upper()
    if not CODE.fullmatch(code):
        reasons.append("单位社保编码：必填，字母、数字或“-”，不超过20位")
    name = normalize(values.get("单位名称"))
    if len(name) > 100:
        reasons.append("单位名称：不能超过100个字")
    count = compact(values.get("缴费人数")).removesuffix(".0")
    if not count.isdigit() or int(count) > MAX_PAYERS:
        reasons.append("缴费人数：应为0或正整数")
    if reasons:
        return None, reasons
    return {"social_code": code, "unit_name": name, "payers": int(count)}, []


def _plain_code(cell):
    """The code check_payer / check_unit read from a cell, or None when it is refused."""
    code = compact(cell).upper()
    return code if CODE.fullmatch(code) else None


def plain_payers(values: list) -> list:
    """payer_columns() of row dicts (without updated_at)."""
    rows = payer_columns({c: column(values, c) for c in KINDS[PAYERS][1]}, None) if values else []
    return [row and {k: v for k, v in row.items() if k != "updated_at"} for row in rows]


def payer_columns(columns: dict, stamp) -> list:
    """Each row's payer dict (updated_at `stamp`) when every cell is plain (a valid 单位社保编码, a
    plain 身份证 number, a plain name of at most 50 characters, 职退状态 as written or empty), else
    None — a chunk's columns {column: cells} checked column by column (models/io/columns.py);
    check_payer words the refusals of the others."""
    codes = columns["单位社保编码"]
    code_of = {cell: _plain_code(cell) for cell in set(codes)}
    numbers = columns["证件号码"]
    births = plain_resident_ids(numbers, now().date())
    names = normalized(columns["姓名"])
    jobs = columns["职退状态"]
    allowed = frozenset(EMPLOYMENT)
    return [{"social_code": code, "id_number": n, "name": m, "employment": e or UNKNOWN, "updated_at": stamp}
            if (code := code_of[c]) is not None and b is not None and m and len(m) <= 50
            and (e in allowed or e == "") else None
            for c, n, b, m, e in zip(codes, numbers, births, names, jobs, strict=True)]


CHECKS = {PAYERS: (check_payer, RegistryPayer, "id_number", payer_columns),
          UNITS: (check_unit, RegistryUnit, "social_code", None)}


def upsert(model, rows: list, key: str) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE for plain dicts (one key once per statement), 1,000 rows
    a statement: the same SQL on PostgreSQL and SQLite. The parameters are built column by column
    (a column of text or integers as it is; others converted by their field)."""
    if not rows:
        return
    columns = list(rows[0])
    table = model._meta.table_name
    names = ", ".join(f'"{model._meta.fields[c].column_name}"' for c in columns)
    updates = ", ".join(f'"{model._meta.fields[c].column_name}" = EXCLUDED."{model._meta.fields[c].column_name}"'
                        for c in columns if c != key)
    one = "(" + ", ".join([db.param] * len(columns)) + ")"
    fields = [model._meta.fields[c] for c in columns]
    plain = {str, int, type(None)}  # what needs no conversion by its field
    cells = zip(*map(operator.itemgetter(*columns), rows), strict=True) if len(columns) > 1 else \
        [[r[columns[0]] for r in rows]]
    # a column of dates or times (updated_at: one value) converted once per distinct value
    converted = [c if set(map(type, c)) <= plain else _converted(f, c, adapt=not is_postgres())
                 for f, c in zip(fields, cells, strict=True)]
    if is_postgres():  # COPY into a temporary table, then one INSERT … SELECT: 2.5 × faster than VALUES pages
        _pg_upsert(table, names, updates, model._meta.fields[key].column_name, fields, converted)
        return
    flat = list(itertools.chain.from_iterable(zip(*converted, strict=True)))
    width = len(columns)
    for i in range(0, len(rows), 1000):
        count = min(1000, len(rows) - i)
        db.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * count)} '
                       f'ON CONFLICT ("{model._meta.fields[key].column_name}") DO UPDATE SET {updates}',
                       flat[i * width:(i + count) * width])


def _pg_upsert(table: str, names: str, updates: str, key: str, fields: list, columns: list) -> None:
    types = ", ".join(f'"{f.column_name}" {PG_CASTS.get(f.field_type, "text")}' for f in fields)
    cursor = db.cursor()
    with pw.__exception_wrapper__:  # driver errors as peewee's, as execute_sql gives them
        cursor.execute(f"CREATE TEMPORARY TABLE upsert_rows ({types}) ON COMMIT DROP")
        lines = map("{}\n".format, map("\t".join, zip(*map(_copy_texts, columns), strict=True)))
        cursor.copy_expert("COPY upsert_rows FROM STDIN", _Streamed(lines), size=COPY_PIECE)
        cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM upsert_rows '
                       f'ON CONFLICT ("{key}") DO UPDATE SET {updates}')
        cursor.execute("DROP TABLE upsert_rows")


def _copy_texts(column) -> list:
    """_copy_text of each value — once per distinct value for a column of few (updated_at)."""
    distinct = set(column)
    if len(distinct) * 2 > len(column):
        return [_copy_text(v) for v in column]
    text = {v: _copy_text(v) for v in distinct}
    return list(map(text.__getitem__, column))


# --- the job ----------------------------------------------------------------------------------------
def _chunks(stream: _Rows):
    """(row numbers, {column: cells}) of CHUNK rows at a time: the rows turned into columns in C."""
    header, chunk = stream.header, []
    width = len(header)
    for number, cells in stream.rows:
        chunk.append((number, cells + [""] * (width - len(cells)) if len(cells) < width else cells))
        if len(chunk) >= CHUNK:
            yield _columns(header, chunk)
            chunk = []
    if chunk:
        yield _columns(header, chunk)


def _columns(header: list, chunk: list) -> tuple[list, dict]:
    """A chunk's row numbers and its named columns (cells past the header dropped; a name twice:
    the later column, as a row's dict by zip would hold)."""
    numbers, rows = zip(*chunk, strict=True)
    return list(numbers), {h: list(c) for h, c in zip(header, zip(*rows)) if h}  # noqa: B905 — rows may be longer


def run(ctx, kind: str) -> dict:
    if ctx.checkpoint.get("applied"):
        return ctx.checkpoint["result"]
    check, model, key, plain_rows = CHECKS[kind]
    title, columns = KINDS[kind]
    account = Account.get_or_none(Account.id == ctx.params.get("account"))
    data = uploads.upload_bytes(ctx.params, gone=True)
    done = int(ctx.checkpoint.get("chunks", 0))
    written = int(ctx.checkpoint.get("written", 0))
    total = seq = 0
    with bulk_work(), _stream(data, kind) as stream:
        for seq, (numbers, cells) in enumerate(_chunks(stream)):
            total += len(numbers)
            if seq < done:
                continue
            good, failed = {}, []
            stamp = now()
            plain = plain_rows(cells, stamp) if plain_rows else [None] * len(numbers)
            if None not in plain:  # the usual chunk: a key twice — the later row wins
                good = dict(zip(map(operator.itemgetter(key), plain), plain, strict=True))
                numbers = plain = ()
            for i, (number, row) in enumerate(zip(numbers, plain, strict=True)):
                if row is None:
                    values = {h: c[i] for h, c in cells.items()}
                    row, reasons = check(values)
                    if reasons:
                        failed.append([number, [values.get(c, "") for c in columns], reasons])
                        continue
                    row["updated_at"] = stamp
                good[row[key]] = row  # a key twice: the later row wins
            with db.atomic():
                relaxed_commit()  # a chunk lost in a crash goes with its checkpoint: resumed, upserted again
                upsert(model, list(good.values()), key)
                if failed:
                    JobChunk.insert(job=ctx.job.id, seq=seq, data=json.dumps(failed, ensure_ascii=False)).execute()
                written += len(good)
                ctx.save_progress(total, stream.hint if stream.hint and stream.hint >= total else 0,
                                  checkpoint={"chunks": seq + 1, "written": written})
    if not total:
        raise DomainError("文件中没有数据（请从第二行开始填写）", 422)
    failed = []
    for chunk in JobChunk.select().where(JobChunk.job == ctx.job.id).order_by(JobChunk.seq):
        failed.extend(FailedRow(n, dict(zip(columns, cells, strict=True)), reasons)
                      for n, cells, reasons in json.loads(chunk.data))
    summary = f"共{total}行，导入（新增或替换）{written}行"
    summary += f"，{len(failed)}行有错误未导入，请下载错误文件，按“错误原因”修改后重新上传该文件。" if failed else "。"
    with db.atomic():
        result = uploads.result(ctx, total, summary, len(failed), imported=written,
                                errors=uploads.shown(failed, name=lambda v: v.get("姓名") or v.get("单位名称", "")),
                                error_file=error_workbook(columns, failed) if failed else None,
                                prefix=kind.replace("_", "-"), download_name=f"{title}错误数据.xlsx")
        JobChunk.delete().where(JobChunk.job == ctx.job.id).execute()
        AuditLog.record(title, ctx.job, account=account,
                        detail={"文件": ctx.params.get("file_name", ""), "行数": total, "导入": written,
                                "错误行数": len(failed)})
        ctx.save_progress(total, total, checkpoint={"chunks": seq + 1, "written": written, "applied": True,
                                                    "result": result})
    return result


@job_kind(PAYERS, "建议清册缴费人员导入")
def run_payers(ctx):
    return run(ctx, PAYERS)


@job_kind(UNITS, "建议清册社保单位导入")
def run_units(ctx):
    return run(ctx, UNITS)
