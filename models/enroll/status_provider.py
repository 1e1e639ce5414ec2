"""Status provider (社保卡和就业状态): where 获取社保卡和就业状态 gets each person's 社保卡状态, 就业状态
and 社保缴纳. One interface, two real implementations (spec 50 "Status provider"):

- `RegistryProvider`: the registry table (StatusRecord) the centre's 社保状态导入 fills; one query
  per batch.
- `HttpProvider`: a remote endpoint (the bureau, or `tools/status_server.py` for demos and
  tests). Protocol: `POST <url>` with `{"id_numbers": [...]}` (at most `batch_size` numbers), header
  `Authorization: <STATUS_HTTP_AUTH>` when set; answer `{"results": [{"id_number", "card_status",
  "employment", "insurance", "status_date"}, ...]}` with `status_date` as YYYY-MM-DD or null; a
  number the bureau does not know is left out of `results`.

`lookup(id_numbers)` answers every asked number. A number without a record is 不明确 three times
with ok=True (the answer is known: there is none). A remote failure (timeout, connection refused,
HTTP error, an answer that is not the protocol) never raises: every person of that batch gets
不明确 with ok=False (retry later) and a Chinese reason naming the cause. A status word outside
the lists of models.enroll.enrollment for one person makes that field 不明确 for that person (ok=True),
with the reason naming the word.

`provider_from_config(app.config)` picks the implementation from the settings STATUS_PROVIDER,
STATUS_HTTP_URL, STATUS_HTTP_TIMEOUT, STATUS_HTTP_BATCH, STATUS_HTTP_AUTH (README).
"""

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from models import db
from models.base import in_values
from models.enroll.enrollment import CARD_STATUSES, EMPLOYMENT, INSURANCE, UNCLEAR, StatusRecord
from models.io.http_json import JsonEndpoint, RemoteError, config_value

log = logging.getLogger("status_provider")

NO_RECORD = "社保系统中没有该证件号码的记录"
FIELDS = (("card_status", "社保卡状态", CARD_STATUSES), ("employment", "就业状态", EMPLOYMENT),
          ("insurance", "社保缴纳", INSURANCE))
_CARDS, _EMPLOYMENT, _INSURANCE = frozenset(CARD_STATUSES), frozenset(EMPLOYMENT), frozenset(INSURANCE)
MAX_ANSWER_BYTES_PER_PERSON = 2_000  # an answer larger than this per asked number is refused


@dataclass(frozen=True)
class StatusResult:
    id_number: str
    card_status: str = UNCLEAR  # 社保卡状态
    employment: str = UNCLEAR  # 就业状态
    insurance: str = UNCLEAR  # 社保缴纳
    status_date: date | None = None  # 状态日期
    reason: str = ""  # why a field is 不明确 or the lookup failed ("" when all is well)
    ok: bool = True  # False: the lookup itself failed; ask again later

    @classmethod
    def unknown(cls, id_number: str) -> "StatusResult":
        return cls(id_number, reason=NO_RECORD)

    @classmethod
    def failed(cls, id_number: str, reason: str) -> "StatusResult":
        return cls(id_number, reason=reason, ok=False)


class StatusProvider(ABC):
    """Subclasses answer one batch (`lookup_batch`); `lookup` splits, deduplicates and merges."""

    batch_size: int = 1000
    name: str = ""

    @abstractmethod
    def lookup_batch(self, id_numbers: list[str]) -> dict[str, StatusResult]:
        """At most batch_size distinct numbers; a result for each."""

    def lookup(self, id_numbers: list[str]) -> dict[str, StatusResult]:
        results: dict[str, StatusResult] = {}
        for part in self.lookup_batches(id_numbers):
            results.update(part)
        return results

    def lookup_batches(self, id_numbers: list[str]) -> Iterator[dict[str, StatusResult]]:
        """The results batch by batch (a background job saves its progress after each)."""
        numbers = list(dict.fromkeys(id_numbers))
        size = max(1, int(self.batch_size))
        for i in range(0, len(numbers), size):
            batch = numbers[i:i + size]
            answered = self.lookup_batch(batch)
            yield {n: answered.get(n) or StatusResult.unknown(n) for n in batch}


def checked_fields(values: dict) -> tuple[dict, list[str]]:
    """The three status fields of one record, each 不明确 when its word is not one of ours;
    (fields, reasons)."""
    fields, reasons = {}, []
    for key, label, allowed in FIELDS:
        word = values.get(key)
        if word in allowed:
            fields[key] = word
        else:
            fields[key] = UNCLEAR
            reasons.append(f"{label}“{word or ''}”不是可识别的状态（可选：{'、'.join(allowed)}）")
    return fields, reasons


class RegistryProvider(StatusProvider):
    """The registry table filled by 社保状态导入."""

    name = "registry"

    def __init__(self, batch_size: int = 5000):
        self.batch_size = batch_size

    def lookup_batch(self, id_numbers: list[str]) -> dict[str, StatusResult]:
        if not id_numbers:
            return {}
        query = (StatusRecord.select(StatusRecord.id_number, StatusRecord.card_status, StatusRecord.employment,
                                     StatusRecord.insurance, StatusRecord.status_date)
                 .where(in_values(StatusRecord.id_number, id_numbers)))
        results = {}
        # the cursor's rows as they are (peewee's per-cell conversion would be most of the time)
        for number, card, employment, insurance, day in db.execute(query).fetchall():
            if isinstance(day, str):  # SQLite keeps dates as text
                day = date.fromisoformat(day[:10])
            if card in _CARDS and employment in _EMPLOYMENT and insurance in _INSURANCE:
                results[number] = StatusResult(number, card, employment, insurance, day)
                continue
            fields, reasons = checked_fields({"card_status": card, "employment": employment, "insurance": insurance})
            results[number] = StatusResult(number, status_date=day, reason="；".join(reasons), **fields)
        return results


class HttpProvider(JsonEndpoint, StatusProvider):
    """The bureau's endpoint (or the reference server), JSON in and out over HTTP(S) (models/io/http_json.py)."""

    name = "http"
    label = "社保状态接口"
    setting = "STATUS_HTTP"

    def lookup_batch(self, id_numbers: list[str]) -> dict[str, StatusResult]:
        if not id_numbers:
            return {}
        try:
            return self._parse(self._post(id_numbers), set(id_numbers))
        except RemoteError as exc:
            log.warning("社保状态接口查询失败（%d人）：%s", len(id_numbers), exc)
            return {n: StatusResult.failed(n, str(exc)) for n in id_numbers}

    def _post(self, id_numbers: list[str]) -> bytes:
        return self.post({"id_numbers": id_numbers}, MAX_ANSWER_BYTES_PER_PERSON * len(id_numbers) + 4096)

    def _parse(self, data: bytes, asked: set) -> dict[str, StatusResult]:
        def bad(what: str) -> RemoteError:
            return RemoteError(f"社保状态接口返回的数据格式不正确（{what}），请稍后重试")
        try:
            answer = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise bad("不是 JSON") from None
        items = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise bad("缺少 results 列表")
        results = {}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id_number"), str):
                raise bad("结果缺少证件号码")
            missing = [label for key, label, _ in FIELDS if key not in item]
            if missing:
                raise bad(f"结果缺少{'、'.join(missing)}")
            number = item["id_number"]
            if number not in asked:
                continue
            fields, reasons = checked_fields(item)
            day = item.get("status_date")
            status_date = None
            if day not in (None, ""):
                try:
                    status_date = date.fromisoformat(day) if isinstance(day, str) else None
                except ValueError:
                    pass
                if status_date is None:
                    reasons.append(f"状态日期“{day}”格式不正确")
            results[number] = StatusResult(number, status_date=status_date, reason="；".join(reasons), **fields)
        return results


def provider_from_config(config=None) -> StatusProvider:
    """The provider the settings name (a Flask app's config, a dict, or None: the environment)."""
    kind = str(config_value(config, "STATUS_PROVIDER", "registry")).strip().lower()
    if kind == "registry":
        return RegistryProvider()
    if kind != "http":
        raise ValueError(f"STATUS_PROVIDER 应为 registry 或 http（现为“{kind}”）")
    url = str(config_value(config, "STATUS_HTTP_URL", "")).strip()
    if not url:
        raise ValueError("STATUS_PROVIDER=http 时须设置 STATUS_HTTP_URL")
    return HttpProvider.from_config(config, url, 500)
