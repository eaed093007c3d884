"""The node conf's `http` and `log` keys: optional, checked like the rest, errors name the key."""

from __future__ import annotations

from typing import Any

import pytest

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.config import HttpSettings, LogSettings, config_from_mapping

BASE = {"party_id": "9999", "listen": "127.0.0.1:9360", "data_dir": "x"}


def test_http_and_log_are_off_and_text_by_default() -> None:
    config = config_from_mapping(BASE)

    assert config.http is None
    assert config.log == LogSettings(format="text", level="info")


def test_http_listen_and_json_logs_are_read() -> None:
    config = config_from_mapping(
        {**BASE, "http": {"listen": "127.0.0.1:9380"}, "log": {"format": "json", "level": "debug"}}
    )

    assert config.http == HttpSettings(listen="127.0.0.1:9380")
    assert config.log == LogSettings(format="json", level="debug")


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ({"http": {"listen": "127.0.0.1:93800"}}, "http.listen", "must be host:port"),
        ({"http": {"listen": "nowhere"}}, "http.listen", "must be host:port"),
        ({"http": {"port": 9380}}, "http", "only listen"),
        ({"http": "127.0.0.1:9380"}, "http", "mapping"),
        ({"http": {"listen": "0.0.0.0:9380"}}, "http.listen", "needs tls"),
        ({"log": {"format": "xml"}}, "log.format", "one of text, json"),
        ({"log": {"level": "loud"}}, "log.level", "one of debug, info"),
        ({"log": {"colour": True}}, "log.colour", "unknown key(s) colour"),
        ({"log": ["json"]}, "log", "mapping"),
    ],
)
def test_bad_http_or_log_conf_names_the_key(extra: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(FateGrpcError) as caught:
        config_from_mapping({**BASE, **extra})

    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in caught.value.violations] == [field]
    assert reason in caught.value.message
