"""End to end over mutual TLS: node processes with provisioned certificates, driven with `flow`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_flow_cli_e2e import flow
from tests.support.nodes import DAGS

pytestmark = pytest.mark.timeout(180)
GUEST, HOST = "9999", "10000"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    workdir = tmp_path_factory.mktemp("tls-cluster")
    with LocalCluster(workdir, [GUEST, HOST], tls=True) as c:
        yield c


def test_a_granted_job_runs_over_mutual_tls(cluster: LocalCluster) -> None:
    guest, host = cluster.flow_options(GUEST), cluster.flow_options(HOST)
    code, answer = flow(*guest, "data", "upload", "-c", "examples/upload/upload_guest.json")
    assert code == 0, answer
    code, answer = flow(*host, "data", "upload", "-c", "examples/upload/upload_host.json")
    assert code == 0, answer

    code, answer = flow(*guest, "job", "submit", "-c", str(DAGS / "psi.yaml"))
    assert code != 0 and answer["code"] == 1006 and "may not create jobs at host 10000" in answer["message"]

    code, answer = flow(
        *host, "permission", "grant", "-p", GUEST, "--component", "reader,psi", "--dataset", "experiment/*"
    )
    assert code == 0, answer
    code, answer = flow(*guest, "job", "submit", "-c", str(DAGS / "psi.yaml"))
    assert code == 0, answer
    job_id = answer["job_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        code, answer = flow(*guest, "job", "query", "-j", job_id)
        if {r["status"] for r in answer["data"]} & {"success", "failed", "canceled", "timeout"}:
            break
        time.sleep(0.2)
    assert {r["status"] for r in answer["data"]} == {"success"}, answer

    code, answer = flow(*guest, "server", "info")
    assert answer["data"]["party_id"] == GUEST


def test_without_a_certificate_flow_is_refused_clearly(cluster: LocalCluster, tmp_path: Path) -> None:
    assert cluster.pki is not None
    code, answer = flow("--node", cluster.parties[GUEST].address, "server", "info")
    assert code != 0 and answer["code"] == 2003  # plaintext to a TLS node: the handshake fails
    code, answer = flow(
        "--node", cluster.parties[GUEST].address, "--ca", str(cluster.pki.bundle), "server", "info"
    )
    assert code != 0  # TLS but no client certificate
