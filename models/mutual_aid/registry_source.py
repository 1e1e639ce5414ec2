"""Where the 建议清册 answers come from (issue 18 item 5): one interface, `RegistrySource`, in the
status-provider pattern of models/enroll/status_provider.py.

- `payers(id_numbers)` → {证件号码: Payer(social_code, name, employment)} for those the bureau knows;
- `unit_payers(social_codes)` → {单位社保编码: 缴费人数} for those it knows.

Two implementations: the local tables the centre fills by 建议清册导入 (`LocalRegistry`, in
models/mutual_aid/registry.py beside the tables) and a remote endpoint (`HttpRegistry`, here: the
bureau, or the reference server `tools/status_server.py --aid-file …`). `source_from_config()`
(registry.py) picks one from the settings AID_REGISTRY_URL, AID_REGISTRY_TIMEOUT, AID_REGISTRY_BATCH,
AID_REGISTRY_AUTH: with a URL the remote one, else the tables.

Protocol: `POST <AID_REGISTRY_URL>` with `{"id_numbers": [...]}` answers `{"payers": [{"id_number",
"social_code", "name", "employment"}]}`; with `{"social_codes": [...]}` it answers `{"units":
[{"social_code", "unit_name", "payers"}]}`; what the bureau does not know is left out. Header
`Authorization: <AID_REGISTRY_AUTH>` when set.

Unlike the status provider (which marks people 不明确 and carries on), a remote failure here raises
DomainError with a Chinese reason: matching a roster against half an answer would write wrong
names, so the caller changes nothing and the operator tries again.
"""

import json
import logging
from abc import ABC, abstractmethod
from typing import NamedTuple

from models.base import DomainError
from models.io.http_json import AnswerTooLarge, JsonEndpoint, RemoteError

log = logging.getLogger("aid_registry")

IN_SERVICE, RETIRED, UNKNOWN = "在职", "退休", "-"  # 职退状态 (the same words as models/mutual_aid/batches.py)
EMPLOYMENT = (IN_SERVICE, RETIRED, UNKNOWN)
MAX_ANSWER_BYTES_PER_ITEM = 1_000


class Payer(NamedTuple):
    social_code: str  # 单位社保编码
    name: str  # 社保姓名
    employment: str  # 职退状态


class RegistrySource(ABC):
    """The 建议清册 as the roster asks it: by ID numbers and by social-security codes."""

    name = ""
    batch_size = 5000

    @abstractmethod
    def payers_batch(self, id_numbers: list) -> dict:
        """{证件号码: Payer} for at most batch_size numbers."""

    @abstractmethod
    def units_batch(self, social_codes: list) -> dict:
        """{单位社保编码: 缴费人数} for at most batch_size codes."""

    def payers(self, id_numbers) -> dict:
        numbers = sorted(set(id_numbers))
        found = {}
        for i in range(0, len(numbers), self.batch_size):
            found.update(self.payers_batch(numbers[i:i + self.batch_size]))
        return found

    def unit_payers(self, social_codes) -> dict:
        codes = sorted(set(social_codes))
        found = {}
        for i in range(0, len(codes), self.batch_size):
            found.update(self.units_batch(codes[i:i + self.batch_size]))
        return found



class Remembered(RegistrySource):
    """Another source's answers kept. Ask it before a transaction, then the same questions inside
    the transaction answer from memory: no network call while the batch row (or SQLite's write
    lock) is held. A number or code not asked before still goes to the source."""

    def __init__(self, inner: RegistrySource):
        self.inner, self.name = inner, inner.name
        self.batch_size = max(inner.batch_size, 1)
        self._payers, self._units = {}, {}  # {asked: answer or None}

    def payers_batch(self, id_numbers: list) -> dict:
        missing = [n for n in id_numbers if n not in self._payers]
        if missing:
            found = self.inner.payers(missing)
            self._payers.update({n: found.get(n) for n in missing})
        return {n: self._payers[n] for n in id_numbers if self._payers[n] is not None}

    def units_batch(self, social_codes: list) -> dict:
        missing = [c for c in social_codes if c not in self._units]
        if missing:
            found = self.inner.unit_payers(missing)
            self._units.update({c: found.get(c) for c in missing})
        return {c: self._units[c] for c in social_codes if self._units[c] is not None}

class HttpRegistry(JsonEndpoint, RegistrySource):
    """The bureau's 建议清册 endpoint (or the reference server), JSON over HTTP(S) (models/io/http_json.py)."""

    name = "http"
    label = "建议清册接口"
    setting = "AID_REGISTRY"

    def __init__(self, url: str, timeout: float = 10.0, batch_size: int = 1000, auth_header: str = ""):
        super().__init__(url, timeout, batch_size, auth_header)

    def payers_batch(self, id_numbers: list) -> dict:
        if not id_numbers:
            return {}
        items = self._ask("id_numbers", id_numbers, "payers")
        asked, found = set(id_numbers), {}
        for item in items:
            number, code, name = item.get("id_number"), item.get("social_code"), item.get("name")
            if not all(isinstance(v, str) and v for v in (number, code, name)):
                raise _bad("缴费人员缺少证件号码、社保编码或姓名")
            employment = item.get("employment") or UNKNOWN
            if employment not in EMPLOYMENT:
                raise _bad(f"职退状态“{employment}”不是在职、退休或-")
            if number in asked:
                found[number] = Payer(code[:20], name[:50], employment)
        return found

    def units_batch(self, social_codes: list) -> dict:
        if not social_codes:
            return {}
        asked, found = set(social_codes), {}
        for item in self._ask("social_codes", social_codes, "units"):
            code, payers = item.get("social_code"), item.get("payers")
            if not isinstance(code, str) or not isinstance(payers, int) or isinstance(payers, bool) or payers < 0:
                raise _bad("单位缺少社保编码或缴费人数")
            if code in asked:
                found[code] = payers
        return found

    def _ask(self, key: str, values: list, answer_key: str) -> list:
        try:
            data = self.post({key: values}, MAX_ANSWER_BYTES_PER_ITEM * len(values) + 4096)
        except AnswerTooLarge:
            raise _bad("返回的数据过大") from None
        except RemoteError as exc:
            raise _failed(str(exc)) from None
        try:
            answer = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise _bad("不是 JSON") from None
        items = answer.get(answer_key) if isinstance(answer, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _bad(f"缺少 {answer_key} 列表")
        return items


def _failed(message: str) -> DomainError:
    log.warning("建议清册接口查询失败：%s", message)
    return DomainError(message + "；本次未做任何修改", 502)


def _bad(what: str) -> DomainError:
    return _failed(f"建议清册接口返回的数据格式不正确（{what}）")
