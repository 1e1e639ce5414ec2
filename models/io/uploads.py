"""The import pipeline every upload follows: upload → background job → progress → result → error file.

- `submit()` pre-checks the upload (empty, format by content, zip bomb, the template's columns —
  `read_table()`), stores it under a random name and queues the job (params: account, upload,
  file_name, and the importer's own);
- the job reads it back (`upload_bytes()`, `read_rows()`), checks every row, applies the good ones
  and answers `result()`: one shape for every import — rows, failed, summary, the counts of the
  importer, the first SHOWN rejected rows, and error_file / error_download_name when rows failed
  (the one error workbook of models/io/error_file.py, kept in the jobs folder);
- the pages (views/uploads.py) poll the job's progress and show the result.

An importer is a model function (check and apply), a column list and a template.
"""

import secrets
from pathlib import Path, PurePath

from models.base import DomainError
from models.io.error_file import FailedRow, error_workbook
from models.io.tables import check_table, read_table, records, sniff
from models.io.tables import read_columns as read_columns_of
from models.job_queue import runs_here
from models.jobs import Job
from models.storage import UPLOAD_DIRS, stored_file

SHOWN = 200  # rejected rows listed on a result page; all of them are in the error file
GONE = "上传的文件已不存在，请重新上传"
EXTENSIONS = (".xlsx", ".xls", ".csv")


def check_name(data: bytes, file_name: str) -> None:
    """The refusals that cost nothing to detect, by the file's name and first bytes (批量导入会员
    checks them before the job): not a table file, empty, an .xlsx that is not a workbook."""
    suffix = PurePath(file_name.lower()).suffix
    if suffix not in EXTENSIONS:
        raise DomainError("只能上传 Excel（.xlsx、.xls）或 CSV 文件", 422)
    if not data:
        raise DomainError("上传的文件是空的", 422)
    if suffix == ".xlsx" and sniff(data) != "xlsx":
        raise DomainError("文件扩展名是 .xlsx，但内容不是 Excel 工作簿，请用 Excel 另存为 .xlsx 后上传", 422)


def store(data: bytes, prefix: str, required: list | None = None, max_rows: int = 100_000,
          keep: bool = False) -> str:
    """Pre-check and store the upload; its stored name. With `required` the file is checked
    (`check_table()`: format, zip bomb, the template's columns, the row limit — the sheet parsed,
    its rows not turned into Python), so a wrong file is refused at once; `keep`: the parsed
    sheet is kept for the job (when it runs in this process: models/io/formats.py)."""
    if required is not None:
        check_table(data, required, max_rows=max_rows, keep=keep)
    elif not data:
        raise DomainError("上传的文件是空的", 422)
    name = f"{prefix}-{secrets.token_hex(8)}.bin"
    stored_file("uploads", name).write_bytes(data)
    return name


def submit(kind: str, account, data: bytes, file_name: str, required: list | None = None,
           max_rows: int = 100_000, **params) -> Job:
    """Store the upload (`store()`) and queue the job `kind` for `account`. The pre-check's parsed
    sheet is kept for the job only when the job runs in this process (`runs_here()`: not under
    JOBS_MODE sql or redis, whose worker process reads the file itself)."""
    name = store(data, kind.replace("_", "-"), required, max_rows, keep=runs_here())
    return Job.submit(kind, {"account": account.id, "upload": name, "file_name": Path(file_name or "").name[:100],
                             **params}, account=account)


def upload_path(params: dict) -> Path:
    """Where the job's upload is (the uploads folder; older jobs kept some in the jobs folder)."""
    for sub in UPLOAD_DIRS:
        path = stored_file(sub, params["upload"])
        if path.exists():
            return path
    return stored_file(UPLOAD_DIRS[0], params["upload"])


def upload_bytes(params: dict, gone: bool = False) -> bytes:
    """The job's upload; with `gone` a removed file is a DomainError (410) for the operator."""
    path = upload_path(params)
    if gone and not path.exists():
        raise DomainError(GONE, 410)
    return path.read_bytes()


def read_rows(ctx, required: list, max_rows: int):
    """(header, [(row number, {column: value})]) of the job's upload; progress 0 of the rows."""
    table = read_table(upload_bytes(ctx.params), required, max_rows=max_rows)
    rows = list(records(table))
    ctx.save_progress(0, len(rows))
    return table.header, rows


def read_columns(ctx, required: list, max_rows: int):
    """read_rows() column by column (`tables.read_columns()`: a Columns, its `rows` built only when
    asked for); progress 0 of the rows."""
    table = read_columns_of(upload_bytes(ctx.params), required, max_rows=max_rows)
    ctx.save_progress(0, len(table))
    return table


def failed_rows(rows: list, checked: list) -> list[FailedRow]:
    """The rejected rows: `rows` [(row number, values)] beside `checked` [(values, reasons)] —
    reasons a list, or a {column: reason} dict."""
    return [FailedRow(number, values, list(reasons.values()) if isinstance(reasons, dict) else list(reasons))
            for (number, _), (values, reasons) in zip(rows, checked, strict=True) if reasons]


def shown(failed: list[FailedRow], **columns) -> list:
    """The first SHOWN rejected rows for the result page: {"row", <name>: cell(values) …, "reason"}."""
    return [{"row": f.row, **{key: cell(f.values) for key, cell in columns.items()}, "reason": "；".join(f.reasons)}
            for f in failed[:SHOWN]]


def result(ctx, rows: int, summary: str, failed: int = 0, error_file: bytes | None = None, prefix: str = "",
           download_name: str = "", **counts) -> dict:
    """The result of an import job: rows, failed, the importer's counts, summary; with the bytes
    of an error file, that file kept as <prefix>-errors-<job>.xlsx (error_file) and the name it
    downloads as (error_download_name)."""
    out = {"rows": rows, "failed": failed, **counts, "summary": summary}
    if error_file is not None:
        out.update(keep_error_file(ctx, error_file, prefix, download_name))
    return out


def keep_error_file(ctx, content: bytes, prefix: str, download_name: str) -> dict:
    """Keep the job's error file (<prefix>-errors-<job>.xlsx in the jobs folder): the result's
    {"error_file", "error_download_name"}."""
    name = f"{prefix}-errors-{ctx.job.id}.xlsx"
    stored_file("jobs", name).write_bytes(content)
    return {"error_file": name, "error_download_name": download_name}


# Result files a job keeps the makings of instead of the file itself, made when first downloaded:
# {(job kind, result key): fn(job, path) → True once the file is at path, False when it cannot be}.
DEFERRED: dict = {}


def deferred_file(kind: str, key: str):
    """Register the maker of a job's result file `key` made on its first download (`made()`)."""
    def register(fn):
        DEFERRED[(kind, key)] = fn
        return fn
    return register


def made(job: Job, key: str, path: Path) -> bool:
    """Is the job's result file `key` at `path` — there already, or made now from what the job kept?"""
    if path.exists():
        return True
    maker = DEFERRED.get((job.kind, key))
    return maker is not None and maker(job, path)


def error_file_of(header: list, failed: list[FailedRow], **options) -> bytes:
    """The error file of a plain import (the uploaded columns, 错误原因, 错误行号)."""
    return error_workbook(header, failed, **options)
