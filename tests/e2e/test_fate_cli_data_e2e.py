"""End to end: fate_client 2.2's `flow data ...`, `flow table ...` and `flow test toy` commands, typed with
FATE's flags and confs, against node processes on loopback."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.support.nodes import DATA, ROOT

pytestmark = pytest.mark.timeout(240)

GUEST_CSV = DATA / "breast_hetero_guest.csv"
HOST_CSV = DATA / "breast_hetero_host.csv"


def flow_run(cluster: LocalCluster, party: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fate_grpc.cli.flow_cli", *cluster.flow_options(party), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ}, timeout=180)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def flow(cluster: LocalCluster, party: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = flow_run(cluster, party, *args)
    return done.returncode, json.loads(done.stdout)


def ok(cluster: LocalCluster, party: str, *args: str) -> dict[str, Any]:
    code, answer = flow(cluster, party, *args)
    assert code == 0 and answer["code"] == 0, answer
    return answer


def write_conf(folder: Path, name: str, conf: dict[str, Any]) -> str:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(conf), encoding="utf-8")
    return str(path)


def upload_conf(file: Path, namespace: str | None, name: str | None, **extra: Any) -> dict[str, Any]:
    """A conf as FATE's examples/upload/*.json write it."""
    conf: dict[str, Any] = {
        "file": str(file),
        "head": True,
        "partitions": 16,
        "extend_sid": False,
        "meta": {"delimiter": ",", "match_id_name": "id"},
        **extra,
    }
    if namespace is not None:
        conf |= {"namespace": namespace, "name": name}
    return conf


def csv_lines(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as source:
        return list(csv.reader(source))


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server_data").resolve()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, server_dir: Path) -> Iterator[LocalCluster]:
    extra = {"server_data_dirs": [str(server_dir)]}
    with LocalCluster(tmp_path_factory.mktemp("cluster"), ["9999", "10000"], extra_conf=extra) as c:
        yield c


def test_upload_and_upload_file_with_fate_confs_then_query_with_display(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    guest_conf = upload_conf(GUEST_CSV, "experiment", "breast_hetero_guest", extend_sid=True)
    guest_conf["meta"]["label_name"] = "y"
    conf = write_conf(tmp_path, "guest", guest_conf)
    answer = ok(cluster, "9999", "data", "upload", "-c", conf)
    assert answer["data"]["count"] == 569 and answer["data"]["label_name"] == "y"
    assert answer["data"]["meta"]["sample_id_name"] == "extend_sid"
    assert answer["data"]["partitions"] == 16 and answer["data"]["data_type"] == "dataframe"
    assert answer["data"]["create_time"]  # the table as stored
    # Uploading again replaces the table, as FATE's upload does.
    assert ok(cluster, "9999", "data", "upload", "-c", conf)["data"]["count"] == 569

    rows = csv_lines(GUEST_CSV)
    answer = ok(
        cluster, "9999", "table", "query", "-n", "breast_hetero_guest", "-ns", "experiment", "-d", "true"
    )
    shown = answer["data"]
    assert shown["count"] == 569 and shown["meta"]["label_name"] == "y" and shown["engine"] == "file"
    assert shown["meta"]["header"] == ",".join(rows[0]) and shown["meta"]["match_id_name"] == "id"
    # extend_sid: the key is a generated sample id (the row number), the value the whole line.
    assert shown["display"] == [[str(i), ",".join(row)] for i, row in enumerate(rows[1:101])]
    plain = ok(
        cluster, "9999", "table", "query", "--name", "breast_hetero_guest", "--namespace", "experiment"
    )
    assert "display" not in plain["data"]

    host = upload_conf(HOST_CSV, "experiment", "breast_hetero_host", head=1)
    answer = ok(cluster, "10000", "data", "upload-file", "-c", write_conf(tmp_path, "host", host))
    assert answer["data"]["count"] == 569 and answer["data"]["meta"]["sample_id_name"] == "id"
    answer = ok(
        cluster, "10000", "table", "query", "-n", "breast_hetero_host", "-ns", "experiment", "-d", "1"
    )
    host_rows = csv_lines(HOST_CSV)
    assert answer["data"]["display"][:3] == [[row[0], ",".join(row[1:])] for row in host_rows[1:4]]
    assert len(answer["data"]["display"]) == 100


def test_bad_upload_confs_name_the_field(cluster: LocalCluster, tmp_path: Path) -> None:
    bad_meta = upload_conf(GUEST_CSV, "experiment", "bad")
    bad_meta["meta"]["label_nmae"] = "y"
    code, answer = flow(cluster, "9999", "data", "upload", "-c", write_conf(tmp_path, "a", bad_meta))
    assert code != 0 and answer["code"] == 1001
    assert answer["data"]["violations"][0]["field"] == "meta.label_nmae"

    missing_column = upload_conf(GUEST_CSV, "experiment", "bad", meta={"sample_id_name": "nope"})
    code, answer = flow(cluster, "9999", "data", "upload", "-c", write_conf(tmp_path, "b", missing_column))
    assert code != 0 and answer["data"]["violations"][0]["field"] == "meta.sample_id_name"

    code, answer = flow(cluster, "9999", "data", "upload", "-c", write_conf(tmp_path, "c", {"fiel": "x"}))
    assert code != 0 and "'fiel'" in answer["message"]
    code, answer = flow(cluster, "9999", "table", "query", "-n", "bad", "-ns", "experiment")
    assert code != 0 and answer["code"] == 1003

    # A file not on this machine: `upload` asks the node to read it on its machine, `upload-file` refuses.
    absent = write_conf(tmp_path, "d", upload_conf(tmp_path / "absent.csv", "experiment", "bad"))
    code, answer = flow(cluster, "9999", "data", "upload", "-c", absent)
    assert code != 0 and answer["code"] in (1001, 1008) and "absent.csv" in answer["message"]
    code, answer = flow(cluster, "9999", "data", "upload-file", "-c", absent)
    assert code != 0 and answer["code"] == 2002 and "not found on this machine" in answer["message"]


def test_upload_without_a_name_then_transformer(cluster: LocalCluster, tmp_path: Path) -> None:
    raw = upload_conf(
        GUEST_CSV, None, None, meta={"delimiter": ",", "match_id_name": "id", "label_name": "y"}
    )
    answer = ok(cluster, "9999", "data", "upload", "-c", write_conf(tmp_path, "raw", raw))
    generated = answer["data"]
    assert generated["namespace"] == "upload" and generated["data_type"] == "table"

    transformer = {
        "namespace": "experiment",
        "name": "breast_transformed",
        "data_warehouse": {"name": generated["name"], "namespace": "upload"},
    }
    conf = write_conf(tmp_path, "transformer", transformer)
    answer = ok(cluster, "9999", "data", "transformer", "-c", conf)
    assert answer["data"]["data_type"] == "dataframe" and answer["data"]["count"] == 569
    assert answer["data"]["label_name"] == "y" and answer["data"]["match_id_name"] == "id"
    shown = ok(cluster, "9999", "table", "query", "-n", "breast_transformed", "-ns", "experiment")["data"]
    assert shown["header"] == csv_lines(GUEST_CSV)[0] and shown["transformed_from"].startswith("upload.")

    unknown = write_conf(tmp_path, "unknown", {**transformer, "overwrite": True})
    code, answer = flow(cluster, "9999", "data", "transformer", "-c", unknown)
    assert code != 0 and answer["code"] == 2002 and "'overwrite'" in answer["message"]
    kept = write_conf(tmp_path, "keep", {**transformer, "drop": False})
    code, answer = flow(cluster, "9999", "data", "transformer", "-c", kept)
    assert code != 0 and answer["code"] == 1004 and '"drop": true' in answer["hint"]
    # Deleting the raw table leaves the dataframe made from it whole.
    ok(cluster, "9999", "table", "delete", "-n", generated["name"], "-ns", "upload")
    target = tmp_path / "out"
    ok(
        cluster,
        "9999",
        "data",
        "download",
        "-n",
        "breast_transformed",
        "-ns",
        "experiment",
        "-o",
        str(target),
    )
    assert csv_lines(target / "experiment_breast_transformed.csv") == csv_lines(GUEST_CSV)


def test_download_component_writes_on_the_node_inside_its_dirs_only(
    cluster: LocalCluster, tmp_path: Path, server_dir: Path
) -> None:
    conf = write_conf(tmp_path, "g", upload_conf(GUEST_CSV, "experiment", "for_download"))
    ok(cluster, "9999", "data", "upload", "-c", conf)
    out = server_dir / "downloads"
    answer = ok(
        cluster,
        "9999",
        "data",
        "download-component",
        "-n",
        "for_download",
        "-ns",
        "experiment",
        "-o",
        str(out),
    )
    assert answer["data"]["count"] == 569
    assert csv_lines(out / "data" / "0.csv") == csv_lines(GUEST_CSV)
    assert json.loads((out / "data" / "0.meta").read_text())["header"] == csv_lines(GUEST_CSV)[0]

    elsewhere = tmp_path / "not_allowed"
    code, answer = flow(
        cluster, "9999", "data", "download-component", "--name", "for_download", "--namespace", "experiment",
        "--path", str(elsewhere),
    )  # fmt: skip
    assert code != 0 and answer["code"] == 1008 and "server_data_dirs" in answer["message"]
    assert "flow data download" in answer["hint"] and not elsewhere.exists()

    # FATE's `data download` flags: -n -ns -o/--path.
    answer = ok(
        cluster,
        "9999",
        "data",
        "download",
        "-n",
        "for_download",
        "-ns",
        "experiment",
        "--path",
        str(tmp_path),
    )
    assert csv_lines(Path(answer["data"]["path"])) == csv_lines(GUEST_CSV)


def test_table_bind_reads_a_file_in_the_allowed_dirs(
    cluster: LocalCluster, tmp_path: Path, server_dir: Path
) -> None:
    source = server_dir / "bind" / "host_part.csv"
    source.parent.mkdir()
    shutil.copyfile(HOST_CSV, source)
    answer = ok(cluster, "10000", "table", "bind", "-n", "bound_host", "-ns", "experiment", "-o", str(source))
    assert answer["data"]["count"] == 569 and answer["data"]["header"] == csv_lines(HOST_CSV)[0]
    assert answer["data"]["match_id_name"] == "id" and answer["data"]["bound_path"] == str(source)

    shown = ok(cluster, "10000", "table", "query", "-n", "bound_host", "-ns", "experiment", "-d", "true")
    assert shown["data"]["display"][0] == [csv_lines(HOST_CSV)[1][0], ",".join(csv_lines(HOST_CSV)[1][1:])]
    # Deleting the table never deletes the user's file.
    ok(cluster, "10000", "table", "delete", "-n", "bound_host", "-ns", "experiment")
    assert source.is_file()
    code, answer = flow(cluster, "10000", "table", "query", "-n", "bound_host", "-ns", "experiment")
    assert code != 0 and answer["code"] == 1003

    outside = tmp_path / "outside.csv"
    shutil.copyfile(HOST_CSV, outside)
    code, answer = flow(
        cluster, "10000", "table", "bind", "-n", "x", "-ns", "experiment", "--path", str(outside)
    )
    assert code != 0 and answer["code"] == 1008 and "server_data_dirs" in answer["message"]
    escape = server_dir / ".." / outside.parent.name / outside.name
    code, answer = flow(cluster, "10000", "table", "bind", "-n", "x", "-ns", "experiment", "-o", str(escape))
    assert code != 0 and answer["code"] in (1001, 1008)


def test_flow_test_toy_runs_to_success(cluster: LocalCluster) -> None:
    done = flow_run(cluster, "9999", "test", "toy", "-gid", "9999", "-hid", "10000")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    job_id = lines[-1].split()[3]
    assert lines[-1] == f"toy test job {job_id} is success"
    assert all(line.startswith(f"toy test job {job_id} is ") for line in lines)

    for party, role in (("9999", "guest"), ("10000", "host")):
        ref = ("-j", job_id, "-r", role, "-p", party, "-tn", "toy_example_0")
        models = ok(cluster, party, "output", "query-model", *ref)["data"]
        assert models["json_model_output"]["data"] == {"test_role": role}
        shown = ok(cluster, party, "output", "display-data", *ref, "-l", "3")
        assert shown["count"]["output_data"] == 1024
        assert shown["data"]["output_data"][0] == ["sample_id", "match_id", "x0"]


def test_flow_test_toy_with_an_unknown_party_fails_with_the_submit_answer(cluster: LocalCluster) -> None:
    done = flow_run(cluster, "9999", "test", "toy", "-gid", "9999", "-hid", "77777", "-t", "30")
    assert done.returncode != 0
    answer = json.loads(done.stdout)
    assert answer["code"] != 0 and "77777" in json.dumps(answer)
