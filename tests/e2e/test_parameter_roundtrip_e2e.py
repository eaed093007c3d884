"""End to end: parameter documents written as YAML the way PyYAML writes them, submitted with
`flow job submit` to node processes, reach the component with exactly the same values and types."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fate_grpc.cli.local_cluster import LocalCluster
from tests.support.nodes import ROOT
from tests.support.test_components import tagged
from tests.unit.test_dag_loading import written_plain_by_pyyaml_but_not_a_string_in_yaml_1_2

pytestmark = pytest.mark.timeout(300)

GUEST, HOST = "9999", "10000"
DOCUMENTS_PER_JOB = 3

# Strings PyYAML writes unquoted although YAML 1.2 reads them as numbers (e.g. "1e-06", "0o17")
# cannot come back as strings; tests/unit/test_dag_loading.py documents them.
strings = st.text(max_size=12).filter(lambda s: not written_plain_by_pyyaml_but_not_a_string_in_yaml_1_2(s))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-06, -0.0, math.inf, -math.inf, 200, 1, 1.0])
    | strings
)
# No bool keys: a Python dict cannot hold True and 1 as two keys.
keys = st.none() | st.integers(min_value=-3, max_value=3) | st.floats(allow_nan=False) | strings
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
)


def flow(*args: str, node: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fate_grpc.cli.flow_cli", "--node", node, *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ}, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    root = tmp_path_factory.mktemp("roundtrip")
    with LocalCluster(root / "cluster", [GUEST, HOST]) as started:
        provider = root / "testkit.json"
        provider.write_text(
            json.dumps(
                {
                    "name": "testkit",
                    "version": "1.0",
                    "device": "local",
                    "metadata": {"module": "tests.support.test_components", "path": str(ROOT)},
                }
            )
        )
        for party in started.parties.values():
            done = flow("provider", "register", "-c", str(provider), node=party.address)
            assert done.returncode == 0, done.stdout
        yield started


def job_yaml(parameter_documents: list[Any], out_dir: Path) -> str:
    """A DAG with one echo task per document, written as PyYAML writes (block style)."""
    tasks = {
        f"echo_{i}": {
            "component_ref": "testkit_echo_parameters",
            "parameters": {"document": document, "out_dir": str(out_dir / f"echo_{i}")},
        }
        for i, document in enumerate(parameter_documents)
    }
    dag = {
        "schema_version": "2.1.0",
        "dag": {
            "parties": [{"role": "guest", "party_id": [GUEST]}, {"role": "host", "party_id": [HOST]}],
            "conf": {"task": {"engine_run": {"cores": 1}}},
            "tasks": tasks,
        },
    }
    return yaml.dump(dag, default_flow_style=False)


def unordered(value: Any) -> Any:
    """A tagged value with every map's entries sorted, to compare maps regardless of entry order."""
    if isinstance(value, dict) and set(value) == {"map"}:
        pairs = [[unordered(k), unordered(v)] for k, v in value["map"]]
        return {"map": sorted(pairs, key=lambda pair: json.dumps(pair, sort_keys=True))}
    if isinstance(value, dict) and set(value) == {"list"}:
        return {"list": [unordered(v) for v in value["list"]]}
    return value


def run_job(cluster: LocalCluster, dag_file: Path) -> None:
    guest = cluster.parties[GUEST].address
    submitted = flow("job", "submit", "-c", str(dag_file), node=guest)
    assert submitted.returncode == 0, submitted.stdout
    job_id = json.loads(submitted.stdout)["job_id"]
    # watch follows the job's server stream until it ends; exit 0 only on success.
    watched = flow("job", "watch", "-j", job_id, node=guest)
    assert watched.returncode == 0, watched.stdout + flow("task", "query", "-j", job_id, node=guest).stdout


@settings(
    max_examples=5,
    deadline=None,
    # Each example is a job across node processes; a failure prints its DAG instead of shrinking.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parameter_documents=st.lists(documents, min_size=DOCUMENTS_PER_JOB, max_size=DOCUMENTS_PER_JOB))
def test_components_read_exactly_what_the_dag_wrote(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory, parameter_documents: list[Any]
) -> None:
    out_dir = tmp_path_factory.mktemp("echo")
    dag_file = out_dir / "dag.yaml"
    dag_file.write_text(job_yaml(parameter_documents, out_dir), encoding="utf-8")

    run_job(cluster, dag_file)

    for i, document in enumerate(parameter_documents):
        for party in (f"guest_{GUEST}", f"host_{HOST}"):
            read = json.loads((out_dir / f"echo_{i}" / f"{party}.json").read_text(encoding="utf-8"))
            # PyYAML writes mapping keys sorted, so only the order of entries may differ.
            assert unordered(read) == unordered(tagged(document)), (
                party,
                dag_file.read_text(encoding="utf-8"),
            )


def test_fate_parameter_values_arrive_typed(cluster: LocalCluster, tmp_path: Path) -> None:
    # Written by hand, as users copy them from FATE's documentation.
    document = {
        "relative_error": 1e-06,
        "ddof": 1,
        "train_size": 200,
        "bin_idx": [1],
        "frac": {0: 0.5, 1: 0.8},
        "threshold": math.inf,
        "on_off": "on",
        "big": 2**80,
    }
    text = (
        "schema_version: 2.1.0\n"
        "dag:\n"
        "  parties:\n"
        f"  - {{role: guest, party_id: ['{GUEST}']}}\n"
        f"  - {{role: host, party_id: ['{HOST}']}}\n"
        "  tasks:\n"
        "    echo_0:\n"
        "      component_ref: testkit_echo_parameters\n"
        "      parameters:\n"
        f"        out_dir: {json.dumps(str(tmp_path / 'echo_0'))}\n"
        "        document:\n"
        "          relative_error: 1e-06\n"
        "          ddof: 1\n"
        "          train_size: 200\n"
        "          bin_idx: [1]\n"
        "          frac: {0: 0.5, 1: 0.8}\n"
        "          threshold: .inf\n"
        "          on_off: on\n"
        "          big: 1208925819614629174706176\n"
    )
    dag_file = tmp_path / "dag.yaml"
    dag_file.write_text(text, encoding="utf-8")

    run_job(cluster, dag_file)

    for party in (f"guest_{GUEST}", f"host_{HOST}"):
        read = json.loads((tmp_path / "echo_0" / f"{party}.json").read_text(encoding="utf-8"))
        assert read == tagged(document)


def test_flow_job_submit_lists_every_problem_of_a_bad_dag(cluster: LocalCluster, tmp_path: Path) -> None:
    tasks = {f"t{i}": {"component_ref": "no_such_component"} for i in range(3)}
    tasks["t3"] = {"component_ref": "x" * 20_000}
    dag = {
        "schema_version": "2.1.0",
        "dag": {"parties": [{"role": "guest", "party_id": [GUEST]}], "tasks": tasks},
    }
    dag_file = tmp_path / "bad.yaml"
    dag_file.write_text(yaml.safe_dump(dag), encoding="utf-8")

    done = flow("job", "submit", "-c", str(dag_file), node=cluster.parties[GUEST].address)

    answer = json.loads(done.stdout)
    assert done.returncode != 0 and answer["code"] == 1002
    assert answer["message"].startswith("invalid DAG: 4 problems: (1) ")
    for i in range(4):
        assert f"dag.tasks.t{i}.component_ref: unknown component" in answer["message"]
    assert "'" + "x" * 79 + "…" in answer["message"] and "x" * 80 not in answer["message"]
    assert len(answer["data"]["violations"]) == 4
