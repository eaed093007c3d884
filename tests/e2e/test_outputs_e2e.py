"""End to end: a train job and a predict job across node processes, read back with `flow output`,
`flow model`, `flow data download` and `flow table delete` exactly as FATE users type them."""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fate_grpc.cli.flow_cli import cli
from fate_grpc.cli.local_cluster import LocalCluster
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(240)

GUEST, HOST = "9999", "10000"


class Flow:
    """The flow CLI against one cluster, in this process (the nodes are separate processes)."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster

    def __call__(self, *args: str, party: str = GUEST) -> tuple[int, dict[str, Any]]:
        node = self.cluster.parties[party].address
        result = CliRunner().invoke(cli, ["--node", node, *args])
        assert "Traceback" not in result.output, result.output
        return result.exit_code, json.loads(result.output)

    def ok(self, *args: str, party: str = GUEST) -> dict[str, Any]:
        code, answer = self(*args, party=party)
        assert code == 0 and answer["code"] == 0, answer
        return answer

    def run_job(self, dag: Path, party: str = GUEST) -> str:
        job_id = self.ok("job", "submit", "-c", str(dag), party=party)["job_id"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = self.ok("job", "query", "-j", job_id, party=party)["data"][0]["status"]
            if status in ("success", "failed", "canceled", "timeout"):
                assert status == "success", self.ok("task", "query", "-j", job_id, party=party)
                return job_id
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish")


def upload_breast(flow: Flow) -> None:
    flow.ok("data", "upload", "-c", "examples/upload/upload_guest.json", party=GUEST)
    flow.ok("data", "upload", "-c", "examples/upload/upload_host.json", party=HOST)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("outputs"), [GUEST, HOST]) as c:
        yield c


@pytest.fixture(scope="module")
def flow(cluster: LocalCluster) -> Flow:
    f = Flow(cluster)
    upload_breast(f)
    return f


@pytest.fixture(scope="module")
def train_job(flow: Flow) -> str:
    return flow.run_job(DAGS / "train_scale.yaml")


def test_psi_metric_in_fates_shape(flow: Flow, train_job: str) -> None:
    answer = flow.ok("output", "query-metric", "-j", train_job, "-r", "guest", "-p", GUEST, "-tn", "psi_0")
    assert list(answer) == ["code", "data", "message"] and answer["message"] == "success"
    records = {record["name"]: record for record in answer["data"]}
    assert sorted(records) == ["intersect_id_count", "summary"]
    for record in records.values():
        assert list(record) == ["data", "groups", "name", "step_axis", "type"]
        assert record["step_axis"] is None and record["groups"] == [{"index": None, "name": "default"}]
    # FATE logs the summary without a type (null) and intersect_id_count as "custom".
    assert records["summary"]["type"] is None and records["intersect_id_count"]["type"] == "custom"
    (point,) = records["summary"]["data"]
    assert point["metric"] == {
        "input_count": 569,
        "intersect_count": 569,
        "intersect_rate": 1,
        "method": "curve25519",
    }
    assert point["step"] is None and point["timestamp"] > 1.6e9
    assert records["intersect_id_count"]["data"][0]["metric"] == {"intersect_count": 569}
    keys = flow.ok(
        "output", "query-metric-key", "-j", train_job, "-r", "host", "-p", HOST, "-tn", "psi_0", party=HOST
    )
    assert sorted(keys["data"], key=lambda k: k["name"]) == [
        {
            "groups": [{"index": None, "name": "default"}],
            "name": "intersect_id_count",
            "step_axis": None,
            "type": "custom",
        },
        {
            "groups": [{"index": None, "name": "default"}],
            "name": "summary",
            "step_axis": None,
            "type": None,
        },
    ]


def test_query_model_and_download_model(flow: Flow, train_job: str, tmp_path: Path) -> None:
    answer = flow.ok(
        "output", "query-model", "-j", train_job, "-r", "host", "-p", HOST, "-tn", "scale_0", party=HOST
    )
    model = answer["data"]["output_model"]
    assert set(model) == {"data", "meta"}
    assert model["meta"]["method"] == "standard" and model["data"]["select_col"] == [
        f"x{i}" for i in range(20)
    ]
    host = pd.read_csv(DATA / "breast_hetero_host.csv")
    np.testing.assert_allclose(model["data"]["mean"]["x3"], host["x3"].mean(), rtol=1e-12)

    answer = flow.ok(
        "output",
        "download-model",
        "-j",
        train_job,
        "-r",
        "host",
        "-p",
        HOST,
        "-tn",
        "scale_0",
        "-o",
        str(tmp_path),
        party=HOST,
    )
    directory = Path(answer["directory"])
    assert directory == (tmp_path / f"output_model_{train_job}_host_{HOST}_scale_0").resolve()
    assert answer["message"] == f"download success, please check the path: {directory}"
    assert json.loads((directory / "output_model" / "model.json").read_text()) == model
    meta = json.loads((directory / "output_model" / "model.meta.json").read_text())
    assert meta["model_id"] == "breast_scale" and meta["model_version"] == "0" and meta["job_id"] == train_job


def test_output_tables_display_and_download_round_trip(flow: Flow, train_job: str, tmp_path: Path) -> None:
    ref = ["-j", train_job, "-r", "guest", "-p", GUEST, "-tn", "scale_0"]
    tables = flow.ok("output", "query-data-table", *ref)["data"]
    assert list(tables) == ["train_output_data"]
    (entry,) = tables["train_output_data"]
    assert entry["namespace"] == f"{train_job}_scale_0" and set(entry) == {"name", "namespace"}

    shown = flow.ok("output", "display-data", *ref, "-l", "3")
    rows = shown["data"]["train_output_data"]
    assert rows[0] == ["id", "y", *[f"x{i}" for i in range(10)]] and len(rows) == 4
    assert shown["count"] == {"train_output_data": 569}

    answer = flow.ok("output", "download-data", *ref, "-o", str(tmp_path))
    directory = Path(answer["directory"])
    assert directory.name == f"output_data_{train_job}_guest_{GUEST}_scale_0"
    downloaded = pd.read_csv(directory / "train_output_data.csv")
    meta = json.loads((directory / "train_output_data.meta.json").read_text())
    assert meta["count"] == 569 and meta["label_name"] == "y" and meta["name"] == entry["name"]
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    features = [f"x{i}" for i in range(10)]
    expected = (guest[features] - guest[features].mean()) / guest[features].std(ddof=1)
    np.testing.assert_allclose(downloaded[features].to_numpy(), expected.to_numpy(), atol=1e-9)
    assert downloaded["id"].tolist() == guest["id"].tolist()

    # flow data download gives the very table the node stores, byte for byte.
    got = flow.ok(
        "data", "download", "-n", entry["name"], "-ns", entry["namespace"], "-o", str(tmp_path / "t")
    )
    assert Path(got["data"]["path"]).read_bytes() == (directory / "train_output_data.csv").read_bytes()


def test_predict_job_uses_each_partys_model_from_its_warehouse(flow: Flow, train_job: str) -> None:
    predict_job = flow.run_job(DAGS / "predict_scale.yaml")
    for role, party in (("guest", GUEST), ("host", HOST)):
        trained = flow.ok(
            "output",
            "display-data",
            "-j",
            train_job,
            "-r",
            role,
            "-p",
            party,
            "-tn",
            "scale_0",
            "-l",
            "50",
            party=party,
        )
        predicted = flow.ok(
            "output",
            "display-data",
            "-j",
            predict_job,
            "-r",
            role,
            "-p",
            party,
            "-tn",
            "scale_0",
            "-l",
            "50",
            party=party,
        )
        assert list(predicted["data"]) == ["test_output_data"]
        # Same rows, same fitted model: the predict output equals the train output.
        assert predicted["data"]["test_output_data"] == trained["data"]["train_output_data"]
    warehouse = flow.ok("model", "query", "-mid", "breast_scale", "-mv", "0")["data"]
    assert [(m["role"], m["task_name"], m["output_key"]) for m in warehouse] == [
        ("guest", "scale_0", "output_model")
    ]


def test_predict_job_with_a_missing_model_is_rejected_at_submit(flow: Flow, tmp_path: Path) -> None:
    dag = (
        (DAGS / "predict_scale.yaml").read_text().replace("model_id: breast_scale", "model_id: no_such_model")
    )
    path = tmp_path / "predict.yaml"
    path.write_text(dag)
    code, answer = flow("job", "submit", "-c", str(path))
    assert code != 0 and answer["code"] == 1006
    assert "no_such_model" in answer["message"] and "scale_0.output_model" in answer["message"]
    parties = {v["party_id"] for v in answer["data"]["violations"]}
    assert parties == {GUEST, HOST}
    assert all(
        v["field"] == "dag.tasks.scale_0.inputs.model.input_model.model_warehouse"
        for v in answer["data"]["violations"]
    )


def test_queries_name_what_is_wrong(flow: Flow, train_job: str) -> None:
    code, answer = flow("output", "query-metric", "-j", "nojob", "-r", "guest", "-p", GUEST, "-tn", "psi_0")
    assert code != 0 and answer["code"] == 1003 and "job nojob not found" in answer["message"]
    code, answer = flow("output", "query-metric", "-j", train_job, "-r", "guest", "-p", GUEST, "-tn", "lr_0")
    assert answer["code"] == 1003 and "no task lr_0" in answer["message"] and "psi_0" in answer["message"]
    code, answer = flow(
        "output", "query-model", "-j", train_job, "-r", "arbiter", "-p", GUEST, "-tn", "psi_0"
    )
    assert answer["code"] == 1003 and "does not run at arbiter" in answer["message"]
    code, answer = flow("output", "query-metric", "-j", train_job, "-r", "chief", "-p", GUEST, "-tn", "psi_0")
    assert answer["code"] == 1001 and "role 'chief'" in answer["message"]
    # Outputs of another party are at its own node: the answer says where.
    code, answer = flow("output", "query-metric", "-j", train_job, "-r", "host", "-p", HOST, "-tn", "psi_0")
    assert code != 0 and answer["code"] == 1014
    assert flow.cluster.parties[HOST].address in answer["message"] and "hint" in answer


def test_traversal_in_names_and_paths_is_refused(flow: Flow, train_job: str, tmp_path: Path) -> None:
    code, answer = flow(
        "output",
        "download-data",
        "-j",
        "../../etc",
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "scale_0",
        "-o",
        str(tmp_path),
    )
    assert code != 0 and answer["code"] == 1001 and "job_id" in answer["message"]
    code, answer = flow("data", "download", "-n", "../x", "-ns", "experiment", "-o", str(tmp_path))
    assert answer["code"] == 1001
    code, answer = flow(
        "model", "export", "-mid", "../m", "-mv", "0", "-r", "guest", "-p", GUEST, "-o", str(tmp_path)
    )
    assert answer["code"] == 1001
    code, answer = flow(
        "output",
        "display-data",
        "-j",
        train_job,
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "scale_0",
        "--output-key",
        "../x",
    )
    assert answer["code"] == 1001
    assert not list(tmp_path.iterdir())


def test_data_download_then_table_delete(flow: Flow, tmp_path: Path) -> None:
    conf = json.loads(Path("examples/upload/upload_guest.json").read_text())
    conf.update(name="to_delete", file=str(DATA / "breast_hetero_guest.csv"))
    (tmp_path / "upload.json").write_text(json.dumps(conf))
    flow.ok("data", "upload", "-c", str(tmp_path / "upload.json"))
    out = tmp_path / "out"
    got = flow.ok("data", "download", "-n", "to_delete", "-ns", conf["namespace"], "-o", str(out))
    assert Path(got["data"]["path"]) == (out / f"{conf['namespace']}_to_delete.csv").resolve()
    assert pd.read_csv(got["data"]["path"]).equals(pd.read_csv(DATA / "breast_hetero_guest.csv"))

    deleted = flow.ok("table", "delete", "-n", "to_delete", "-ns", conf["namespace"])
    assert deleted["data"] == {"name": "to_delete", "namespace": conf["namespace"]}
    code, answer = flow(
        "data", "download", "-n", "to_delete", "-ns", conf["namespace"], "-o", str(tmp_path / "again")
    )
    assert code != 0 and answer["code"] == 1003
    assert not (tmp_path / "again").exists() or not list((tmp_path / "again").iterdir())
    code, answer = flow("table", "delete", "-n", "to_delete", "-ns", conf["namespace"])
    assert answer["code"] == 1003


def test_model_export_import_between_two_deployments(
    flow: Flow, train_job: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    exported = {}
    for role, party in (("guest", GUEST), ("host", HOST)):
        answer = flow.ok(
            "model",
            "export",
            "-mid",
            "breast_scale",
            "-mv",
            "0",
            "-r",
            role,
            "-p",
            party,
            "-o",
            str(tmp_path),
            party=party,
        )
        exported[party] = Path(answer["data"]["path"])
        assert exported[party].name == f"breast_scale_0_{role}_{party}.zip"
        assert zipfile.ZipFile(exported[party]).testzip() is None

    with LocalCluster(tmp_path_factory.mktemp("second"), [GUEST, HOST]) as second:
        other = Flow(second)
        upload_breast(other)
        # A party's archive goes to that party's node only.
        code, answer = other(
            "model", "import", "-mid", "moved", "-mv", "1", "-i", str(exported[HOST]), party=GUEST
        )
        assert code != 0 and answer["code"] == 1001 and "party 10000" in answer["message"]
        for party in (GUEST, HOST):
            imported = other.ok(
                "model", "import", "-mid", "moved", "-mv", "1", "-i", str(exported[party]), party=party
            )
            assert [(m["task_name"], m["output_key"], m["model_id"]) for m in imported["data"]] == [
                ("scale_0", "output_model", "moved")
            ]
        code, answer = other("model", "import", "-mid", "moved", "-mv", "1", "-i", str(exported[GUEST]))
        assert answer["code"] == 1004 and "hint" in answer

        dag = (
            (DAGS / "predict_scale.yaml")
            .read_text()
            .replace("model_id: breast_scale", "model_id: moved")
            .replace("model_version: '0'", "model_version: '1'")
        )
        path = tmp_path / "predict_moved.yaml"
        path.write_text(dag)
        job = other.run_job(path)
        out = other.ok(
            "output", "display-data", "-j", job, "-r", "guest", "-p", GUEST, "-tn", "scale_0", "-l", "5"
        )
        trained = flow.ok(
            "output", "display-data", "-j", train_job, "-r", "guest", "-p", GUEST, "-tn", "scale_0", "-l", "5"
        )
        assert out["data"]["test_output_data"] == trained["data"]["train_output_data"]

        other.ok("model", "delete", "-mid", "moved", "-mv", "1", party=HOST)
        code, answer = other("job", "submit", "-c", str(path))
        assert answer["code"] == 1006 and {v["party_id"] for v in answer["data"]["violations"]} == {HOST}


def test_a_tampered_archive_is_refused(flow: Flow, train_job: str, tmp_path: Path) -> None:
    answer = flow.ok(
        "model", "export", "-mid", "breast_scale", "-mv", "0", "-r", "guest", "-p", GUEST, "-o", str(tmp_path)
    )
    original = Path(answer["data"]["path"])
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("model.json"):
                content = content.replace(b"standard", b"min_max!")
            target.writestr(info, content)
    code, answer = flow("model", "import", "-mid", "t", "-mv", "0", "-i", str(tampered))
    assert answer["code"] == 1001 and "checksum" in answer["message"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as target:
        target.writestr("../../escape.txt", b"x")
        target.writestr("manifest.json", json.dumps({"format": "fate-grpc-model/1"}))
    code, answer = flow("model", "import", "-mid", "t", "-mv", "0", "-i", str(evil))
    assert code != 0 and answer["code"] == 1001 and "model archive" in answer["message"]
    assert flow.ok("model", "query", "-mid", "t")["data"] == []


def test_delete_metric_and_output_model(flow: Flow, tmp_path: Path) -> None:
    job = flow.run_job(DAGS / "psi.yaml")
    ref = ["-j", job, "-r", "guest", "-p", GUEST, "-tn", "psi_0"]
    # psi's two metrics: intersect_id_count and summary, as FATE's.
    assert len(flow.ok("output", "query-metric", *ref)["data"]) == 2
    assert flow.ok("output", "delete-metric", *ref)["data"] == {"deleted": 2}
    assert flow.ok("output", "query-metric", *ref)["data"] == []
    code, answer = flow("output", "download-model", *ref, "-o", str(tmp_path))
    assert code != 0 and answer["code"] == 1003 and "no output model" in answer["message"]
