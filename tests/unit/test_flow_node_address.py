"""flow names a malformed node address as typed, before gRPC folds it into something else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fate_grpc.cli.flow_cli import CONF_ENV, checked_address, main


@pytest.mark.parametrize("address", ["127.0.0.1:9360", "[::1]:9360", "node.example:1", "h:65535"])
def test_a_host_and_a_port_in_range_pass(address: str) -> None:
    assert checked_address(address, "--node") == address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1:93600", "'93600' is not a port (1-65535)"),
        ("127.0.0.1:0", "'0' is not a port (1-65535)"),
        ("127.0.0.1:http", "'http' is not a port (1-65535)"),
        ("localhost", "it is not HOST:PORT"),
        (":9360", "it is not HOST:PORT"),
    ],
)
def test_a_bad_address_is_named_as_typed(address: str, reason: str) -> None:
    with pytest.raises(Exception) as caught:
        checked_address(address, "--node")
    assert str(caught.value).startswith(f"--node {address!r} is not a node address: {reason}")


def test_flow_answers_a_bad_port_without_dialling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CONF_ENV, str(tmp_path / "flow.yaml"))
    assert main(["--node", "127.0.0.1:93600", "job", "list"]) != 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["code"] == 2002
    assert answer["message"] == (
        "--node '127.0.0.1:93600' is not a node address: '93600' is not a port (1-65535)"
    )
    assert "HOST:PORT" in answer["hint"]


def test_flow_init_refuses_a_port_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CONF_ENV, str(tmp_path / "flow.yaml"))
    assert main(["init", "--ip", "127.0.0.1", "--port", "93600"]) != 0
    assert "'93600' is not a port (1-65535)" in json.loads(capsys.readouterr().out)["message"]
    assert not (tmp_path / "flow.yaml").exists()
