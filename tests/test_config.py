"""Node confs: the shipped examples load, and bad confs are refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.config import config_from_mapping, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["guest_9999.yaml", "host_10000.yaml", "arbiter_9998.yaml"])
def test_shipped_confs_load(name: str) -> None:
    config = load_config(ROOT / "conf" / name)
    assert config.party_id in name
    assert set(config.routes) == {"9999", "10000", "9998"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"listen": "127.0.0.1:1", "data_dir": "x"}, "party_id"),
        ({"party_id": "9999", "listen": "nope", "data_dir": "x"}, "listen"),
        ({"party_id": "9999", "listen": "127.0.0.1:1", "data_dir": "x", "routes": {"1": "h"}}, "routes.1"),
        ({"party_id": "../x", "listen": "127.0.0.1:1", "data_dir": "x"}, "party_id"),
        ({"party_id": "9999", "listen": "127.0.0.1:1", "data_dir": "x", "bogus": 1}, "bogus"),
        (
            {"party_id": "9999", "listen": "127.0.0.1:1", "data_dir": "x", "timeouts": {"rpc_s": "a"}},
            "timeouts.rpc_s",
        ),
    ],
)
def test_bad_conf_names_the_field(raw: dict, field: str) -> None:
    with pytest.raises(FateGrpcError) as caught:
        config_from_mapping(raw)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert field in caught.value.message or any(v.field == field for v in caught.value.violations)


def test_plaintext_beyond_loopback_is_refused() -> None:
    with pytest.raises(FateGrpcError) as caught:
        config_from_mapping({"party_id": "9999", "listen": "0.0.0.0:9360", "data_dir": "x"})
    assert "needs tls" in caught.value.message
