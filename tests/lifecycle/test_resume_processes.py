"""Across node processes: a participant, or the scheduler, SIGKILLed while coordinated_lr trains on a few
thousand rows and restarted on the same store and port does not fail the job. The lost lr attempt is
replaced at both parties, psi keeps its one attempt and its output, and the job ends success at every
party with the same model as an undisturbed run."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from fate_grpc.cli.client import FlowClient
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.common.v1 import common_pb2
from tests.e2e.test_outputs_e2e import Flow
from tests.support.nodes import DAGS

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]
GUEST, HOST = "9999", "10000"
ROWS, SHARED = 3000, 2600
DEADLINE_S = 240.0
END = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll the nodes' answers until `check` holds (what is waited on is the nodes' own progress)."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not true after {DEADLINE_S}s: {what}"
        time.sleep(0.05)


def write_tables(folder: Path) -> dict[str, Path]:
    """A guest table (id, y, 8 features) and a host table (id, 8 features) sharing SHARED ids."""
    rng = np.random.default_rng(7)
    ids = rng.permutation(ROWS * 2)
    guest_ids, host_ids = ids[:ROWS], np.concatenate([ids[:SHARED], ids[ROWS : ROWS + ROWS - SHARED]])
    weights = rng.normal(size=16)
    features = {i: rng.normal(size=16) for i in ids}
    paths = {}
    for role, party_ids in (("guest", guest_ids), ("host", host_ids)):
        lines = ["id,y," if role == "guest" else "id,"]
        lines[0] += ",".join(f"x{j}" for j in range(8))
        for i in party_ids:
            x = features[i]
            own = x[:8] if role == "guest" else x[8:]
            label = f"{int(x @ weights > 0)}," if role == "guest" else ""
            lines.append(f"{i},{label}" + ",".join(f"{v:.6f}" for v in own))
        path = folder / f"{role}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths[role] = path
    return paths


def upload(flow: Flow, folder: Path) -> None:
    for role, path in write_tables(folder).items():
        meta = {"delimiter": ",", "match_id_name": "id", **({"label_name": "y"} if role == "guest" else {})}
        conf = {"file": str(path), "head": True, "partitions": 4, "extend_sid": False, "meta": meta}
        conf |= {"namespace": "resume", "name": f"lr_{role}"}
        conf_path = folder / f"upload_{role}.json"
        conf_path.write_text(json.dumps(conf))
        flow.ok("data", "upload", "-c", str(conf_path), party=GUEST if role == "guest" else HOST)


def train_dag() -> str:
    """FATE's coordinated_lr training DAG on the generated tables, without its evaluation."""
    document = yaml.safe_load((DAGS / "coordinated_lr.yaml").read_text())
    dag = document["dag"]
    del dag["tasks"]["evaluation_0"]
    for party, role in ((f"guest_{GUEST}", "guest"), (f"host_{HOST}", "host")):
        dag["party_tasks"][party]["tasks"]["reader_0"]["parameters"] = {
            "name": f"lr_{role}",
            "namespace": "resume",
        }
    dag["tasks"]["lr_0"]["parameters"].update(epochs=6, batch_size=500, early_stop="diff", tol=0.0)
    dag["conf"].pop("model_id")
    dag["conf"].pop("model_version")
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    folder = tmp_path_factory.mktemp("resume")
    conf = {"scheduler": {"sweep_interval_s": 0.5, "collect_after_s": 1}}
    with LocalCluster(folder, [GUEST, HOST], extra_conf=conf) as started:
        upload(Flow(started), folder)
        yield started


@pytest.fixture(scope="module")
def undisturbed(cluster: LocalCluster) -> dict[str, object]:
    with cluster.client(GUEST) as guest:
        job_id = guest.submit_job(train_dag()).job_id
        view = guest.wait_job(job_id, timeout_s=DEADLINE_S)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
    return outputs(cluster, job_id)


def outputs(cluster: LocalCluster, job_id: str) -> dict[str, object]:
    """What the job made that must not depend on a restart: each party's lr model and psi's row count."""
    flow = Flow(cluster)
    found: dict[str, object] = {}
    for party, role in ((GUEST, "guest"), (HOST, "host")):
        ref = ["-j", job_id, "-r", role, "-p", party]
        model = flow.ok("output", "query-model", *ref, "-tn", "lr_0", party=party)["data"]["output_model"]
        found[f"{role} coef"] = np.asarray(model["data"]["estimator"]["param"]["coef_"], float).reshape(-1)
        table = flow.ok("output", "query-data-table", *ref, "-tn", "psi_0", party=party)["data"][
            "output_data"
        ]
        count = flow.ok("table", "query", "-n", table[0]["name"], "-ns", table[0]["namespace"], party=party)
        found[f"{role} psi rows"] = count["data"]["count"]
    return found


def lr_runs_at(client: FlowClient, job_id: str, party_id: str, attempt: int) -> Callable[[], bool]:
    def check() -> bool:
        tasks = client.query_tasks(job_id, all_attempts=True).tasks
        return any(
            (t.task_name, t.party_id, t.attempt, t.status)
            == ("lr_0", party_id, attempt, common_pb2.TASK_STATUS_RUNNING)
            for t in tasks
        )

    return check


def ended_success_at(client: FlowClient, job_id: str) -> Callable[[], bool]:
    """Whether the party's own node (not the scheduler's view) has the job ended success."""
    return lambda: client.list_jobs(job_id=job_id).jobs[0].status == common_pb2.JOB_STATUS_SUCCESS


def kill_and_restart(cluster: LocalCluster, party_id: str) -> None:
    process = cluster.parties[party_id].process
    assert process is not None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    cluster.start_party(party_id)
    cluster.wait_ready(party_id)


@pytest.mark.parametrize("killed", [HOST, GUEST], ids=["participant", "scheduler"])
def test_a_node_killed_while_lr_trains_resumes_and_the_job_ends_as_an_undisturbed_run(
    cluster: LocalCluster, undisturbed: dict[str, object], killed: str
) -> None:
    with cluster.client(GUEST) as guest:
        job_id = guest.submit_job(train_dag()).job_id
        wait_until(lr_runs_at(guest, job_id, killed, 0), f"lr_0 runs at party {killed}")

    kill_and_restart(cluster, killed)

    with cluster.client(GUEST) as guest, cluster.client(HOST) as host:
        wait_until(lambda: guest.query_job(job_id).job.status in END, "the job ended at its scheduler")
        view = guest.query_job(job_id).job
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        for client in (guest, host):
            wait_until(ended_success_at(client, job_id), "every party ended the job success")
        attempts = {
            (t.task_name, t.attempt, t.party_id): t
            for t in guest.query_tasks(job_id, all_attempts=True).tasks
        }
    # Only the task that ran at the killed node was attempted again, at both parties; psi kept its output.
    # (A start may find the restarted node's channel still backing off: a further attempt follows then.)
    assert {a for (name, a, _) in attempts if name == "psi_0"} == {0}
    last = max(a for (name, a, _) in attempts if name == "lr_0")
    assert last >= 1
    assert attempts[("lr_0", 0, killed)].status == common_pb2.TASK_STATUS_FAILED
    assert "restarted while the task ran" in attempts[("lr_0", 0, killed)].error
    assert all(attempts[("lr_0", last, p)].status == common_pb2.TASK_STATUS_SUCCESS for p in (GUEST, HOST))
    after = outputs(cluster, job_id)
    for name, value in undisturbed.items():
        if isinstance(value, np.ndarray):
            assert np.allclose(after[name], value, atol=1e-8), name  # type: ignore[arg-type]
        else:
            assert after[name] == value, name
