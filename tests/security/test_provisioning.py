"""The provisioning script: files, permissions, confs that load, and one CA per party."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from cryptography.x509.oid import NameOID

from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.node.config import load_config
from fate_grpc.security import pki
from tests.support.nodes import ROOT, federation


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_provision_script_writes_a_federation(tmp_path: Path) -> None:
    out = tmp_path / "federation"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "provision.py"),
            "--out",
            str(out),
            "--party",
            "9999=10.0.0.1:9360",
            "--party",
            "10000=10.0.0.2:9360",
            "--admin",
            "9999:root",
            "--user",
            "9999:alice",
        ],
        check=True,
        capture_output=True,
    )
    node = pki.load(out / "parties" / "9999" / "node.key", out / "parties" / "9999" / "node.crt")
    assert pki.subject_field(node.certificate, NameOID.COMMON_NAME) == "9999"
    assert pki.issued_by(node.certificate, x509_of(out / "ca" / "ca.crt"))
    for key in [out / "ca" / "ca.key", *out.glob("parties/*/node.key"), *out.glob("parties/*/users/*.key")]:
        assert mode(key) == 0o600, key
    assert mode(out / "parties" / "9999") == 0o700
    alice = x509_of(out / "parties" / "9999" / "users" / "alice.crt")
    assert pki.subject_field(alice, NameOID.ORGANIZATIONAL_UNIT_NAME) == "client"
    config = load_config(out / "parties" / "9999" / "node.yaml")
    assert config.tls is not None and config.tls.cert == (out / "parties" / "9999" / "node.crt").resolve()
    assert not config.is_loopback_simulation and config.client_auth_required
    assert not config.partners_allowed_by_default


def x509_of(path: Path):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


async def test_with_one_ca_per_party_no_ca_can_vouch_for_another_party(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000", "9998"], tls=True, ca_per_party=True) as fed:
        assert fed.pki is not None
        # 9998's CA issues a certificate that claims to be party 9999.
        rogue_ca = pki.load(fed.pki.ca_key("9998"), fed.pki.ca_cert("9998"))
        rogue = pki.issue_node_cert(rogue_ca, "9999")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=fed.pki.bundle.read_bytes(),
            private_key=rogue.key_pem,
            certificate_chain=rogue.cert_pem,
        )
        stub = control_pb2_grpc.ControlServiceStub(fed.channel("10000", credentials))
        with pytest.raises(grpc.RpcError) as caught:
            await stub.CheckJob(
                control_pb2.CheckJobRequest(
                    job_id="j1", scheduler_party_id="9999", initiator_party_id="9999"
                ),
                timeout=5,
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "not issued by that party's CA" in caught.value.details()
