"""End to end: FATE's own pipeline examples (``examples/pipeline/<component>/*.py`` of FATE 2.x), dumped by
fate_client without a FATE-Flow (``examples/dags/fate/dump_fate_examples.py``) and submitted unchanged with
``flow job submit`` to three node processes: guest 9999, hosts 10000 and 9998 (FATE's second host, 9999 in
FATE's config, is 9998 here, except in ``psi_guest_also_host`` where 9999 plays guest and host as in FATE's
config). Tables are uploaded with FATE-Flow's upload conf form (``extend_sid: true``, 16 partitions).

A predict DAG names its model by the training job's id, which fate_client fills in after ``fit()``; the file
carries ``TRAIN_JOB_ID`` there and the test puts in the id of the training job it ran, nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_outputs_e2e import Flow
from tests.support.nodes import DAGS

pytestmark = pytest.mark.timeout(300)

FATE_DAGS = DAGS / "fate"
GUEST, HOST, HOST_2 = "9999", "10000", "9998"
ROWS = 569
LABEL_0, LABEL_1 = 212, 357
END = ("success", "failed", "canceled", "timeout")


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("fate_examples"), [GUEST, HOST, HOST_2]) as cluster:
        made = Flow(cluster)
        made.ok("data", "upload", "-c", "examples/upload/upload_guest_extend_sid.json", party=GUEST)
        # 9999 also holds the host table: FATE's example config makes it the second host.
        for party in (HOST, HOST_2, GUEST):
            made.ok("data", "upload", "-c", "examples/upload/upload_host_extend_sid.json", party=party)
        yield made


def submit(flow: Flow, dag: Path) -> str:
    """Submit the DAG file; on failure, the message shows each failed task's error."""
    job_id = str(flow.ok("job", "submit", "-c", str(dag))["job_id"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = flow.ok("job", "query", "-j", job_id)["data"][0]["status"]
        if status in END:
            tasks = flow.ok("task", "query", "-j", job_id)["data"]
            errors = [(t["task_name"], t["role"], t["party_id"], t["error"]) for t in tasks if t.get("error")]
            assert status == "success", errors
            return job_id
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} ({dag.name}) did not finish")


def submit_example(flow: Flow, name: str) -> str:
    return submit(flow, FATE_DAGS / f"{name}.yaml")


def submit_predict(flow: Flow, name: str, train_job: str, tmp_path: Path) -> str:
    text = (FATE_DAGS / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.count("TRAIN_JOB_ID") == 1
    dag = tmp_path / f"{name}.yaml"
    dag.write_text(text.replace("TRAIN_JOB_ID", train_job), encoding="utf-8")
    return submit(flow, dag)


def counts(flow: Flow, job: str, task: str, role: str, party: str) -> dict[str, int]:
    ref = ["-j", job, "-r", role, "-p", party, "-tn", task]
    return dict(flow.ok("output", "display-data", *ref, "-l", "1", party=party)["count"])


def header(flow: Flow, job: str, task: str, key: str, role: str, party: str) -> list[str]:
    ref = ["-j", job, "-r", role, "-p", party, "-tn", task]
    answer = flow.ok("output", "display-data", *ref, "-l", "1", party=party)
    return list(answer["data"][key][0])


def task_parties(flow: Flow, job: str, task: str) -> set[tuple[str, str]]:
    tasks = flow.ok("task", "query", "-j", job)["data"]
    return {(t["role"], t["party_id"]) for t in tasks if t["task_name"] == task}


ALL = (("guest", GUEST), ("host", HOST), ("host", HOST_2))


def test_psi_with_two_hosts(flow: Flow) -> None:
    job = submit_example(flow, "psi_multi_host")
    for role, party in ALL:
        assert counts(flow, job, "psi_0", role, party) == {"output_data": ROWS}


def test_psi_where_the_guest_is_also_the_second_host(flow: Flow) -> None:
    job = submit_example(flow, "psi_guest_also_host")
    assert task_parties(flow, job, "psi_0") == {("guest", GUEST), ("host", HOST), ("host", GUEST)}
    for role, party in (("guest", GUEST), ("host", HOST), ("host", GUEST)):
        assert counts(flow, job, "psi_0", role, party) == {"output_data": ROWS}


def test_data_split_at_two_hosts_with_and_without_sync(flow: Flow) -> None:
    job = submit_example(flow, "data_split_multi_host")
    for role, party in ALL:
        # 0.6 / 0.1 / the rest, each party on its own (hetero_sync false); 200 / the rest / 50, synced.
        assert counts(flow, job, "data_split_0", role, party) == {
            "train_output_data": 341,
            "validate_output_data": 57,
            "test_output_data": 171,
        }
        assert counts(flow, job, "data_split_1", role, party) == {
            "train_output_data": 200,
            "validate_output_data": ROWS - 250,
            "test_output_data": 50,
        }


def test_sample_on_one_side_only(flow: Flow) -> None:
    job = submit_example(flow, "sample_unilateral")
    assert task_parties(flow, job, "sample_0") == {("guest", GUEST)}
    assert task_parties(flow, job, "sample_1") == {("host", HOST)}
    assert counts(flow, job, "sample_0", "guest", GUEST) == {"output_data": LABEL_0 // 2 + LABEL_1}
    assert counts(flow, job, "sample_1", "host", HOST) == {"output_data": 1000}  # n 1000, with replacement


def test_binning_with_two_hosts_then_the_deployed_predict_job(flow: Flow, tmp_path: Path) -> None:
    train = submit_example(flow, "binning_multi_host")
    predict = submit_predict(flow, "binning_multi_host_predict", train, tmp_path)
    for role, party in ALL:
        assert counts(flow, predict, "binning_0", role, party) == {"test_output_data": ROWS}


def test_selection_from_two_models_then_the_deployed_predict_job(flow: Flow, tmp_path: Path) -> None:
    train = submit_example(flow, "selection_multi_model")
    predict = submit_predict(flow, "selection_multi_model_predict", train, tmp_path)
    for role, party in (("guest", GUEST), ("host", HOST)):
        kept = header(flow, train, "selection_0", "train_output_data", role, party)
        assert header(flow, predict, "selection_0", "test_output_data", role, party) == kept
    assert {"x0", "x1"} <= set(header(flow, train, "selection_0", "train_output_data", "guest", GUEST))


def stratified_counts(total: int, by_label: list[int], size: int) -> list[int]:
    """FATE's stratified draw: each label but the last gets round(its share * size), the last the rest."""
    drawn = [round(n / total * size) for n in by_label[:-1]]
    return [*drawn, size - sum(drawn)]


def test_chain_of_preprocessing_components(flow: Flow) -> None:
    job = submit_example(flow, "multi_preprocessing")
    for role, party in (("guest", GUEST), ("host", HOST)):
        assert counts(flow, job, "data_split_1", role, party)["test_output_data"] == 50
        assert counts(flow, job, "sample_1", role, party) == {"output_data": 100}
    # data_split_1: 200 train, 50 test, validate the rest (319), stratified, drawn in that order.
    train = stratified_counts(ROWS, [LABEL_0, LABEL_1], 200)
    left = [LABEL_0 - train[0], LABEL_1 - train[1]]
    validate = stratified_counts(sum(left), left, ROWS - 250)
    for label in (0, 1):
        assert result_metric(flow, job, "data_split_1", f"{label}_summary") == {
            "original_count": (LABEL_0, LABEL_1)[label],
            "train_count": train[label],
            "validate_count": validate[label],
            "test_count": left[label] - validate[label],
        }
    # data_split_0: 0.6 / 0.0 / 0.4 of 569 rows: 341 train, no validate, 228 test.
    assert counts(flow, job, "data_split_0", "guest", GUEST) == {
        "train_output_data": 341,
        "validate_output_data": 0,
        "test_output_data": 228,
    }


def test_union_as_fate_client_2_0_writes_it(flow: Flow) -> None:
    job = submit_example(flow, "union_fate20")
    for role, party in (("guest", GUEST), ("host", HOST)):
        assert counts(flow, job, "union_0", role, party) == {"output_data": 341 + 171}


def result_metric(flow: Flow, job: str, task: str, name: str) -> object:
    ref = ["-j", job, "-r", "guest", "-p", GUEST, "-tn", task]
    records = flow.ok("output", "query-metric", *ref)["data"]
    (record,) = [r for r in records if r["name"] == name]
    return record["data"][0]["metric"]
