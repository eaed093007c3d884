"""Three parties on three "hosts" (network namespaces on one bridge, 10.77.0.0/24), deployed by the README's
recipe: provisioned once, each party given only its own folder, started from inside it, used by a
token-only user over TLS. A full job over mutual TLS succeeds; so does one whose host loses its link for
30 s mid-job, and one with 10% packet loss on every link (where tc netem exists).

Needs root and iproute2; skipped with the reason where namespaces cannot be made.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos.dags import ARBITER, GUEST, HOST, PARTIES, chaos_dag
from tests.chaos.harness import marked_processes
from tests.netns.network import Hosts, NetworkUnavailable, hosts, namespaces_available
from tests.netns.recipe import PARTNER_PORT, ROOT, PartyHost, provision

pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="network namespaces need root (ip netns add)"
    ),
]
MARK = "FATE_GRPC_CHAOS_MARK"
ROWS = 3000
END = {"success", "failed", "canceled", "timeout"}


@dataclass
class Deployment:
    net: Hosts
    parties: dict[str, PartyHost]
    workdir: Path

    @property
    def guest(self) -> PartyHost:
        return self.parties[GUEST]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    reason = namespaces_available()
    if reason is not None:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("netns")
    mark = f"netns-{uuid.uuid4().hex[:8]}"
    with hosts(list(PARTIES)) as net:
        provision(workdir / "federation", net.addresses)
        parties = {
            pid: PartyHost(pid, workdir / "hosts", prefix=net.exec_prefix(pid), host=net.addresses[pid])
            for pid in PARTIES
        }
        try:
            for party in parties.values():
                party.install(workdir / "federation")
                party.create_admin_token()
                party.start({MARK: mark})
            for party in parties.values():
                party.wait_serving(party.user_options())
            prepare(parties, workdir)
            yield Deployment(net, parties, workdir)
        finally:
            for party in parties.values():
                party.stop()
            # Anything the nodes left behind is ours to end (found by the mark, never by name).
            for pid in marked_processes(mark):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def prepare(parties: dict[str, PartyHost], workdir: Path) -> None:
    """Tables at guest and host; the host and the arbiter let the guest run the job's components."""
    for party_id, name, label in ((GUEST, "guest", "y"), (HOST, "host", "")):
        lines = (ROOT / "examples" / "data" / f"default_credit_hetero_{name}.csv").read_text().splitlines()
        table = workdir / f"chaos_{name}.csv"
        table.write_text("\n".join(lines[: ROWS + 1]) + "\n")
        conf = workdir / f"upload_{name}.json"
        meta = {"delimiter": ",", "match_id_name": "id", **({"label_name": label} if label else {})}
        conf.write_text(
            json.dumps(
                {
                    "file": str(table),
                    "head": True,
                    "namespace": "experiment",
                    "name": f"chaos_{name}",
                    "meta": meta,
                }
            )
        )
        code, answer = parties[party_id].flow("data", "upload", "-c", str(conf))
        assert code == 0, answer
    grants = {HOST: "reader,psi,coordinated_lr", ARBITER: "coordinated_lr"}
    for party_id, components in grants.items():
        code, answer = parties[party_id].flow(
            "permission", "grant", "-p", GUEST, "--component", components, "--dataset", "experiment/*"
        )
        assert code == 0, answer


def submit(deployment: Deployment) -> str:
    dag = deployment.workdir / "chaos.yaml"
    dag.write_text(chaos_dag())
    code, answer = deployment.guest.flow("job", "submit", "-c", str(dag))
    assert code == 0, answer
    return str(answer["job_id"])


def job_statuses(deployment: Deployment, job_id: str) -> dict[str, str]:
    code, answer = deployment.guest.flow("job", "query", "-j", job_id)
    if code != 0:
        return {}
    return {row["party_id"]: row["status"] for row in answer["data"]}


def wait_job(deployment: Deployment, job_id: str, deadline_s: float = 420) -> dict[str, str]:
    deadline = time.monotonic() + deadline_s
    while True:
        statuses = job_statuses(deployment, job_id)
        if statuses and set(statuses.values()) <= END:
            return statuses
        assert time.monotonic() < deadline, f"job {job_id} not ended after {deadline_s}s: {statuses}"
        time.sleep(1.0)


def wait_task_running(deployment: Deployment, job_id: str, task: str, party_id: str) -> None:
    deadline = time.monotonic() + 180
    while True:
        code, answer = deployment.guest.flow("task", "query", "-j", job_id, "-tn", task, "-p", party_id)
        if code == 0 and any(row["status"] == "running" for row in answer["data"]):
            return
        assert time.monotonic() < deadline, f"{task} never ran at {party_id}: {answer}"
        time.sleep(0.5)


def failure_details(deployment: Deployment, job_id: str) -> str:
    _, answer = deployment.guest.flow("task", "query", "-j", job_id)
    return json.dumps(
        [(r["task_name"], r["party_id"], r["status"], r["error"]) for r in answer.get("data", [])]
    )


def test_each_party_runs_from_only_its_own_folder(deployment: Deployment) -> None:
    for party_id, party in deployment.parties.items():
        files = sorted(str(p.relative_to(party.folder)) for p in party.folder.rglob("*") if p.is_file())
        kept = [f for f in files if not f.startswith(("var/", "node.stderr"))]
        assert kept == [
            "client_ca.crt",
            "node.crt",
            "node.key",
            "node.yaml",
            "trust.crt",
            "users/root.crt",
            "users/root.key",
        ], kept
        code, answer = party.flow("server", "info")
        assert code == 0 and answer["data"]["party_id"] == party_id, answer


def test_a_token_user_at_the_partner_port_is_told_the_port_demands_a_certificate(
    deployment: Deployment,
) -> None:
    guest = deployment.guest
    address = f"{guest.host}:{PARTNER_PORT}"
    options = ["--node", address, "--ca", str(guest.folder / "trust.crt"), "--token", guest.token]

    code, answer = guest.flow("server", "info", options=options)

    assert code != 0
    assert address in answer["message"] and "demands a client certificate" in answer["message"], answer


def test_a_full_job_over_mutual_tls_succeeds(deployment: Deployment) -> None:
    job_id = submit(deployment)

    statuses = wait_job(deployment, job_id)

    assert set(statuses.values()) == {"success"}, failure_details(deployment, job_id)


def test_a_job_completes_when_a_party_loses_its_link_for_30s_mid_job(deployment: Deployment) -> None:
    job_id = submit(deployment)
    wait_task_running(deployment, job_id, "lr_0", HOST)

    deployment.net.link_down(HOST)
    try:
        time.sleep(30)  # the outage itself, not a wait for an event
    finally:
        deployment.net.link_up(HOST)

    statuses = wait_job(deployment, job_id)
    assert set(statuses.values()) == {"success"}, failure_details(deployment, job_id)


def test_a_job_completes_with_ten_percent_packet_loss(deployment: Deployment) -> None:
    try:
        with deployment.net.packet_loss(10):
            job_id = submit(deployment)
            statuses = wait_job(deployment, job_id, deadline_s=600)
    except NetworkUnavailable as exc:
        pytest.skip(str(exc))

    assert set(statuses.values()) == {"success"}, failure_details(deployment, job_id)
