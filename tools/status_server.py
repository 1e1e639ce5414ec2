"""Reference server of the status protocol (models/enroll/status_provider.py), for demos and tests:
it stands in for the social-security bureau's endpoint.

    python -m tools.status_server --file registry.xlsx --port 8765 [--token xyz] [--delay 0.0]
    python -m tools.status_server --from-db [--database URL] --port 8765

`--file` loads a status file (xlsx / xls / csv with the columns of 社保状态导入: 证件号码, 姓名,
社保卡状态, 就业状态, 社保缴纳, 状态日期), checked row by row as the import checks it (rejected rows
are listed on stderr and left out). `--from-db` answers from the StatusRecord table of the app's
database (DATABASE_URL, or the app's default SQLite file), read at each request.

`POST /` (any path) with `{"id_numbers": [...]}` answers `{"results": [...]}` with the numbers on
record; `GET /` answers `{"records": n}`.

The mutual-aid 建议清册 protocol (models/mutual_aid/registry_source.py) is answered under
`/aid-registry`: `{"id_numbers": [...]}` → `{"payers": [{"id_number", "social_code", "name",
"employment"}]}`, `{"social_codes": [...]}` → `{"units": [{"social_code", "unit_name", "payers"}]}`
— from `--aid-payers FILE` / `--aid-units FILE` (the columns of 建议清册导入), or with `--from-db`
from the RegistryPayer / RegistryUnit tables. Point AID_REGISTRY_URL at http://HOST:PORT/aid-registry.

With `--token xyz` every request must carry `Authorization: Bearer xyz` (401 otherwise).
`--delay` seconds before each answer simulate a slow bureau. A plain WSGI app on werkzeug's threaded server; no Flask.
"""

import argparse
import hmac
import json
import sys
import threading
import time
from datetime import date
from pathlib import Path

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

MAX_NUMBERS = 10_000  # per request
MAX_BODY = MAX_NUMBERS * 40 + 1024


def _record(number: str, card: str, employment: str, insurance: str, day) -> dict:
    return {"id_number": number, "card_status": card, "employment": employment, "insurance": insurance,
            "status_date": day.isoformat() if isinstance(day, date) else day}


class FileRegistry:
    """Records held in memory: {ID number: protocol dict}."""

    def __init__(self, records: dict):
        self.records = records

    @classmethod
    def load(cls, path: Path) -> tuple["FileRegistry", list]:
        """(registry, [(row, reasons)] of the rows left out)."""
        from models.base import today
        from models.enroll.status_import import MAX_ROWS, STATUS_COLUMNS, check_status_rows
        from models.io.tables import read_table, records
        rows = list(records(read_table(path.read_bytes(), STATUS_COLUMNS, max_rows=MAX_ROWS)))
        plan, checked = check_status_rows(rows, today())
        rejected = [(n, reasons) for (n, _), (_, reasons) in zip(rows, checked, strict=True) if reasons]
        return cls({p["id_number"]: _record(p["id_number"], p["card_status"], p["employment"], p["insurance"],
                                            p["status_date"]) for p in plan}), rejected

    def count(self) -> int:
        return len(self.records)

    def find(self, numbers: list) -> list:
        return [self.records[n] for n in numbers if n in self.records]


class DatabaseRegistry:
    """The StatusRecord table, one query per request."""

    def __init__(self, url: str | None = None):
        if url:  # None: the database the process is already connected to (tests)
            import models
            models.connect(url)

    def _query(self, fn):
        from models import db
        db.connect(reuse_if_open=True)
        try:
            return fn()
        finally:
            db.close()

    def count(self) -> int:
        from models.enroll.enrollment import StatusRecord
        return self._query(lambda: StatusRecord.select().count())

    def find(self, numbers: list) -> list:
        from models.base import in_values
        from models.enroll.enrollment import StatusRecord
        fields = (StatusRecord.id_number, StatusRecord.card_status, StatusRecord.employment, StatusRecord.insurance,
                  StatusRecord.status_date)
        return self._query(lambda: [_record(*row) for row in StatusRecord.select(*fields).where(
            in_values(StatusRecord.id_number, numbers)).tuples()] if numbers else [])


class AidFileRegistry:
    """The 建议清册 held in memory: {证件号码: payer dict}, {单位社保编码: unit dict}."""

    def __init__(self, payers: dict | None = None, units: dict | None = None):
        self.payer_records, self.unit_records = payers or {}, units or {}

    @classmethod
    def load(cls, payers_path: Path | None, units_path: Path | None) -> tuple["AidFileRegistry", list]:
        """(registry, [(file, row, reasons)] of the rows left out), rows checked as 建议清册导入 checks them."""
        from models.io.tables import read_table, records
        from models.mutual_aid import registry_import as imp
        loaded, rejected = {imp.PAYERS: {}, imp.UNITS: {}}, []
        for kind, path in ((imp.PAYERS, payers_path), (imp.UNITS, units_path)):
            if path is None:
                continue
            check, _model, key = imp.CHECKS[kind]
            for number, values in records(read_table(path.read_bytes(), imp.KINDS[kind][1], imp.MAX_ROWS)):
                row, reasons = check(values)
                if reasons:
                    rejected.append((path.name, number, reasons))
                else:
                    loaded[kind][row[key]] = row
        return cls(loaded[imp.PAYERS], loaded[imp.UNITS]), rejected

    def count(self) -> int:
        return len(self.payer_records)

    def payers(self, numbers: list) -> list:
        return [self.payer_records[n] for n in numbers if n in self.payer_records]

    def units(self, codes: list) -> list:
        return [self.unit_records[c] for c in codes if c in self.unit_records]


class AidDatabaseRegistry(DatabaseRegistry):
    """The RegistryPayer / RegistryUnit tables, one query per request."""

    def count(self) -> int:
        from models.mutual_aid.registry import RegistryPayer
        return self._query(lambda: RegistryPayer.select().count())

    def payers(self, numbers: list) -> list:
        from models.base import in_values
        from models.mutual_aid.registry import RegistryPayer as P
        keys = ("id_number", "social_code", "name", "employment")
        return self._query(lambda: [dict(zip(keys, row, strict=True)) for row in P.select(
            P.id_number, P.social_code, P.name, P.employment).where(in_values(P.id_number, numbers)).tuples()]
            if numbers else [])

    def units(self, codes: list) -> list:
        from models.base import in_values
        from models.mutual_aid.registry import RegistryUnit as U
        keys = ("social_code", "unit_name", "payers")
        return self._query(lambda: [dict(zip(keys, row, strict=True)) for row in U.select(
            U.social_code, U.unit_name, U.payers).where(in_values(U.social_code, codes)).tuples()] if codes else [])


def _aid_answer(aid, body) -> Response:
    """The 建议清册 protocol: payers by ID numbers, or units by social-security codes."""
    for key, answer, find in (("id_numbers", "payers", "payers"), ("social_codes", "units", "units")):
        values = body.get(key) if isinstance(body, dict) else None
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            break
        if len(values) > MAX_NUMBERS:
            return _json({"error": f"一次最多查询{MAX_NUMBERS}个"}, 413)
        return _json({answer: getattr(aid, find)(values)})
    return _json({"error": "请求格式应为 {\"id_numbers\": [...]} 或 {\"social_codes\": [...]}"}, 400)


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


def make_app(registry, token: str = "", delay: float = 0.0, aid=None):
    """The WSGI app answering the protocol from `registry` (FileRegistry / DatabaseRegistry), and
    the 建议清册 protocol under /aid-registry from `aid` (AidFileRegistry / AidDatabaseRegistry)."""
    expected = f"Bearer {token}" if token else ""

    @Request.application
    def app(request: Request) -> Response:
        if expected and not hmac.compare_digest(request.headers.get("Authorization", "").encode(),
                                                expected.encode()):
            return _json({"error": "未授权：缺少或错误的访问令牌"}, 401)
        if request.method == "GET":
            return _json({"records": registry.count()})
        if request.method != "POST":
            return _json({"error": "只支持 POST"}, 405)
        data = request.stream.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            return _json({"error": f"一次最多查询{MAX_NUMBERS}个证件号码"}, 413)
        if request.path.rstrip("/").endswith("/aid-registry"):
            if aid is None:
                return _json({"error": "本服务未载入建议清册"}, 404)
            try:
                body = json.loads(data)
            except ValueError:
                body = None
            if delay:
                time.sleep(delay)
            return _aid_answer(aid, body)
        try:
            body = json.loads(data)
            numbers = body["id_numbers"]
            if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _json({"error": "请求格式应为 {\"id_numbers\": [\"证件号码\", ...]}"}, 400)
        if len(numbers) > MAX_NUMBERS:
            return _json({"error": f"一次最多查询{MAX_NUMBERS}个证件号码"}, 413)
        if delay:
            time.sleep(delay)
        return _json({"results": registry.find(numbers)})

    return app


class Server:
    """The app on a threaded werkzeug server in a background thread (tests, benchmarks):
    `with Server(app) as url: ...`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.server = make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}/status"
        self.aid_url = f"http://{host}:{self.server.server_port}/aid-registry"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.status_server", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="status file: .xlsx, .xls or .csv (社保状态导入 columns)")
    source.add_argument("--from-db", action="store_true", help="answer from the StatusRecord table")
    parser.add_argument("--database", default="", help="database URL for --from-db (default: as the app)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="", help="require Authorization: Bearer TOKEN")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--aid-payers", type=Path, help="建议清册 payers file (单位社保编码, 证件号码, 姓名, 职退状态)")
    parser.add_argument("--aid-units", type=Path, help="建议清册 units file (单位社保编码, 单位名称, 缴费人数)")
    args = parser.parse_args(argv)
    aid = None
    if args.file:
        from models.base import DomainError
        try:
            registry, rejected = FileRegistry.load(args.file)
        except (OSError, DomainError) as exc:
            parser.exit(2, f"无法读取 {args.file}：{getattr(exc, 'message', exc)}\n")
        for row, reasons in rejected[:50]:
            print(f"第{row}行未载入：{'；'.join(reasons)}", file=sys.stderr)
        if len(rejected) > 50:
            print(f"……共{len(rejected)}行未载入", file=sys.stderr)
        if args.aid_payers or args.aid_units:
            try:
                aid, left_out = AidFileRegistry.load(args.aid_payers, args.aid_units)
            except (OSError, DomainError) as exc:
                parser.exit(2, f"无法读取建议清册文件：{getattr(exc, 'message', exc)}\n")
            for name, row, reasons in left_out[:50]:
                print(f"{name} 第{row}行未载入：{'；'.join(reasons)}", file=sys.stderr)
    else:
        url = args.database
        if not url:
            import os

            from app import BASE_DIR, default_settings
            url = default_settings(Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance")))["DATABASE_URL"]
        registry = DatabaseRegistry(url)
        aid = AidDatabaseRegistry()
    try:
        records = registry.count()
    except Exception as exc:  # noqa: BLE001 — no database, or not upgraded yet: say so and stop
        parser.exit(2, f"无法读取数据库中的社保状态（{exc.__class__.__name__}：{exc}），请先运行 flask db upgrade\n")
    server = make_server(args.host, args.port, make_app(registry, args.token, args.delay, aid), threaded=True)
    print(f"社保状态参考服务：http://{args.host}:{server.server_port}/ （{records}条记录）", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
