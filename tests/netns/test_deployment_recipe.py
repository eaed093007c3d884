"""The deployment recipe on one machine (no root needed): a party's folder alone starts its node, keys are
not written into a checkout where git would track them, a token-only user reaches a TLS user port, and a
failed connection says which address and why."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fate_grpc.cli.connection_errors import ClientSide, connection_error
from fate_grpc.cli.local_cluster import free_port
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.config import config_from_mapping, load_config
from tests.netns.recipe import ROOT, PartyHost

pytestmark = pytest.mark.timeout(180)
GUEST, HOST = "9999", "10000"


def provision(out: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "scripts" / "provision.py"), "--out", str(out)]
    command += ["--party", f"{GUEST}=127.0.0.1:{free_port()}", "--party", f"{HOST}=127.0.0.1:{free_port()}"]
    command += ["--admin", f"{GUEST}:root", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[PartyHost]:
    """The guest's node, started from a copy of only its own folder, with a token port beyond loopback."""
    provision(tmp_path / "federation", "--user-port", str(free_port()))
    guest = PartyHost(GUEST, tmp_path / "guest-host", host="127.0.0.1")
    guest.install(tmp_path / "federation")
    conf = yaml.safe_load((guest.folder / "node.yaml").read_text())
    # Any address but loopback gets TLS on the user port; the wildcard one is reachable here as 127.0.0.1.
    conf["client_listen"] = conf["client_listen"].replace("127.0.0.1", "0.0.0.0")
    (guest.folder / "node.yaml").write_text(yaml.safe_dump(conf))
    guest.create_admin_token()
    guest.start()
    try:
        yield guest
    finally:
        guest.stop()


def user_port_options(guest: PartyHost, *, token: bool = True) -> list[str]:
    port = yaml.safe_load((guest.folder / "node.yaml").read_text())["client_listen"].rpartition(":")[2]
    options = ["--node", f"127.0.0.1:{port}", "--ca", str(guest.folder / "trust.crt")]
    return options + (["--token", guest.token] if token else [])


def test_a_party_folder_holds_everything_its_node_needs_and_nothing_of_another_party(tmp_path: Path) -> None:
    provision(tmp_path / "federation")
    alone = tmp_path / "elsewhere" / "guest"
    shutil.copytree(tmp_path / "federation" / "parties" / GUEST, alone)
    shutil.rmtree(tmp_path / "federation")

    config = load_config(alone / "node.yaml")

    assert config.tls is not None
    for path in (config.tls.cert, config.tls.key, config.tls.trust, config.tls.client_ca):
        assert path is not None and path.is_relative_to(alone.resolve()), path
    names = sorted(str(p.relative_to(alone)) for p in alone.rglob("*") if p.is_file())
    assert names == [
        "client_ca.crt",
        "node.crt",
        "node.key",
        "node.yaml",
        "trust.crt",
        "users/root.crt",
        "users/root.key",
    ]


def test_with_one_ca_per_party_each_folder_carries_its_partners_cas_but_no_ca_key(tmp_path: Path) -> None:
    provision(tmp_path / "federation", "--ca-per-party")
    folder = tmp_path / "federation" / "parties" / GUEST

    config = load_config(folder / "node.yaml")

    assert set(config.tls.partner_cas) == {GUEST, HOST} if config.tls else False
    assert not list(folder.rglob("ca.key"))
    assert (tmp_path / "federation" / "cas" / GUEST / "ca.key").is_file()


def test_keys_are_not_written_where_git_would_track_them(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)

    refused = provision(checkout / "federation", check=False)
    (checkout / ".gitignore").write_text("/federation/\n")
    accepted = provision(checkout / "federation", check=False)

    assert refused.returncode != 0 and "not ignored by git" in refused.stderr, refused.stderr
    assert not (checkout / "federation").exists() or accepted.returncode == 0
    assert accepted.returncode == 0, accepted.stderr


def test_a_token_only_user_reaches_the_tls_user_port(started: PartyHost) -> None:
    started.wait_serving(user_port_options(started))

    code, answer = started.flow("server", "info", options=user_port_options(started))
    _, refused = started.flow("server", "info", options=user_port_options(started, token=False))

    assert code == 0 and answer["data"]["auth_method"] == "token", answer
    assert refused["code"] != 0 and "token" in refused["message"], refused


def test_a_token_only_user_at_the_partner_port_learns_it_demands_a_certificate(started: PartyHost) -> None:
    started.wait_serving(user_port_options(started))
    partner = yaml.safe_load((started.folder / "node.yaml").read_text())["listen"]
    options = ["--node", partner, "--ca", str(started.folder / "trust.crt"), "--token", started.token]

    code, answer = started.flow("server", "info", options=options)

    assert code != 0 and answer["code"] == ErrorCode.NODE_UNREACHABLE
    assert partner in answer["message"] and "demands a client certificate" in answer["message"], answer


def test_certificates_none_without_a_user_port_of_its_own_is_refused_at_start(tmp_path: Path) -> None:
    conf = {"party_id": GUEST, "listen": "127.0.0.1:0", "data_dir": str(tmp_path)}

    with pytest.raises(FateGrpcError) as caught:
        config_from_mapping({**conf, "client_auth": {"certificates": "none"}})

    assert [v.field for v in caught.value.violations] == ["client_auth.certificates"]
    assert "needs client_listen" in caught.value.message


@pytest.mark.parametrize(
    ("detail", "side", "expected"),
    [
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:9360: Failed to connect"
            " to remote host: Connection refused",
            ClientSide(tls=False, certificate=False, token=False),
            "nothing accepts connections at 10.0.0.1:9360 (connection refused)",
        ),
        (
            "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:10.0.0.1:9360: Socket closed",
            ClientSide(tls=True, certificate=False, token=True),
            "the node at 10.0.0.1:9360 closed the connection during the TLS handshake: this port demands a"
            " client certificate",
        ),
        (
            "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:10.0.0.1:9360: Socket closed",
            ClientSide(tls=False, certificate=False, token=False),
            "the node at 10.0.0.1:9360 closed the connection: it expects TLS",
        ),
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:9360: Tls handshake"
            " failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:"
            "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate: OK",
            ClientSide(tls=True, certificate=True, token=False),
            "the TLS handshake with the node at 10.0.0.1:9360 failed: certificate verify failed (unable to"
            " get local issuer certificate)",
        ),
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:9360: Custom verification"
            " check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.",
            ClientSide(tls=True, certificate=True, token=False),
            "the TLS certificate of the node at 10.0.0.1:9360 names neither that host nor the expected"
            " server name",
        ),
        (
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:9360: connection attempt"
            " timed out before receiving SETTINGS frame",
            ClientSide(tls=True, certificate=True, token=False),
            "no answer from 10.0.0.1:9360 (connection attempt timed out before receiving SETTINGS frame)",
        ),
    ],
)
def test_a_failed_connection_names_the_address_and_the_reason(
    detail: str, side: ClientSide, expected: str
) -> None:
    error = connection_error("10.0.0.1:9360", detail, side)

    assert error.code is ErrorCode.NODE_UNREACHABLE
    assert error.message == expected
    assert "start the node" not in error.message and error.hint
