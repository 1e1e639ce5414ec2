"""One HTTP client for the bureau's JSON batch endpoints: the 社保状态 provider
(models/enroll/status_provider.py) and the 建议清册 (models/mutual_aid/registry_source.py).

A `JsonEndpoint` subclass (its `label` and settings prefix `setting`) checks its settings
(`<setting>_URL` http(s), `<setting>_TIMEOUT` > 0, `<setting>_BATCH` ≥ 1; `from_config` reads them)
and `post(payload, limit)`
sends one JSON batch (no proxy from the environment; `Authorization: <auth_header>` when set) and
gives the answer's bytes, at most `limit`. Every failure is a RemoteError whose message is the
Chinese reason the operator reads (拒绝访问 / 出错 / 超时 / 无法连接 / 连接中断), named by `label`;
an answer over the limit is an AnswerTooLarge. What a failure means (mark people 不明确, or change
nothing) is the caller's.
"""

import http.client
import json
import os
import socket
import urllib.error
import urllib.request


class RemoteError(Exception):
    """A failed remote lookup; the message is the reason shown to the operator."""


class AnswerTooLarge(RemoteError):
    """The answer was longer than the batch may need."""


class JsonEndpoint:
    label = "接口"  # how messages name it, e.g. "社保状态接口"
    setting = ""  # the settings' prefix, e.g. "STATUS_HTTP"

    def __init__(self, url: str, timeout: float = 10.0, batch_size: int = 500, auth_header: str = ""):
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"{self.setting}_URL 应以 http:// 或 https:// 开头（现为“{url}”）")
        if timeout <= 0 or batch_size < 1:
            raise ValueError(f"{self.setting}_TIMEOUT 应大于 0，{self.setting}_BATCH 应至少为 1")
        self.url = url
        self.timeout = float(timeout)
        self.batch_size = int(batch_size)
        self.auth_header = auth_header
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from the env

    @classmethod
    def from_config(cls, config, url: str, batch_size: int):
        """The endpoint at `url` with `<setting>_TIMEOUT` (10 seconds), `<setting>_BATCH` (`batch_size`)
        and `<setting>_AUTH` from `config` (a Flask app's config, a dict, or None: the environment)."""
        prefix = cls.setting
        try:
            timeout = float(config_value(config, f"{prefix}_TIMEOUT", 10))
            batch = int(config_value(config, f"{prefix}_BATCH", batch_size))
        except (TypeError, ValueError):
            raise ValueError(f"{prefix}_TIMEOUT 应为秒数，{prefix}_BATCH 应为整数") from None
        auth = str(config_value(config, f"{prefix}_AUTH", ""))
        return cls(url, timeout=timeout, batch_size=batch, auth_header=auth)

    def _seconds(self) -> str:
        return f"{self.timeout:g}秒"

    def post(self, payload: dict, limit: int) -> bytes:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.auth_header:
            headers["Authorization"] = self.auth_header
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        label = self.label
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                data = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (401, 403):
                raise RemoteError(f"{label}拒绝访问（HTTP {exc.code}），请检查接口授权设置（{self.setting}_AUTH）"
                                  ) from None
            if exc.code >= 500:
                raise RemoteError(f"{label}出错（HTTP {exc.code}），请稍后重试") from None
            raise RemoteError(f"{label}拒绝了查询请求（HTTP {exc.code}），请稍后重试或联系接口管理员") from None
        except TimeoutError:
            raise RemoteError(f"{label}超时（{self._seconds()}），请稍后重试") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise RemoteError(f"{label}超时（{self._seconds()}），请稍后重试") from None
            raise RemoteError(f"无法连接{label}（{cause(exc.reason)}），请稍后重试") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # reset by peer, a broken HTTP answer
            raise RemoteError(f"{label}连接中断（{cause(exc)}），请稍后重试") from None
        if len(data) > limit:
            raise AnswerTooLarge(f"{label}返回的数据过大，格式不正确，请稍后重试")
        return data


def config_value(config, key: str, default):
    """`key` from `config` when set there, else from the environment, else `default`."""
    if config is not None and config.get(key) not in (None, ""):
        return config[key]
    value = os.environ.get(key)
    return default if value in (None, "") else value


def cause(error) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(error, socket.gaierror):
        return "找不到服务器地址"
    if isinstance(error, ConnectionResetError | http.client.RemoteDisconnected):
        return "连接被对方关闭"
    if isinstance(error, http.client.HTTPException | ValueError):
        return "应答不是有效的 HTTP"
    return error.__class__.__name__ if not isinstance(error, str) else error
