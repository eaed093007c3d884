"""A job's task dependency graph as one party sees it (`flow job dependency`)."""

from __future__ import annotations

from pathlib import Path

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import parse_dag
from fate_grpc.domain.job_dependency import TaskNode, Upstream, dependency_graph

DAGS = Path(__file__).resolve().parents[2] / "examples" / "dags"
CATALOG = builtin_catalog()


def test_every_task_lists_its_upstream_outputs_in_topological_order() -> None:
    dag = parse_dag((DAGS / "feature_engineering.yaml").read_text(), CATALOG)

    graph = dependency_graph(dag, "guest", "9999", CATALOG)

    assert [node.task_name for node in graph] == ["reader_0", "psi_0", "scale_0", "binning_0", "selection_0"]
    nodes = {node.task_name: node for node in graph}
    assert nodes["reader_0"] == TaskNode("reader_0", "reader", "default", ())
    assert nodes["psi_0"].upstreams == (Upstream("input_data", "data", "reader_0", "output_data"),)
    assert nodes["scale_0"].stage == "train"
    assert nodes["selection_0"].upstreams == (
        Upstream("train_data", "data", "scale_0", "train_output_data"),
        Upstream("input_models", "model", "binning_0", "output_model"),
    )


def test_only_the_tasks_that_run_at_the_party_are_listed() -> None:
    text = (DAGS / "psi.yaml").read_text()
    dag = parse_dag(text, CATALOG)

    assert [n.task_name for n in dependency_graph(dag, "host", "10000", CATALOG)] == ["reader_0", "psi_0"]
    assert dependency_graph(dag, "arbiter", "10000", CATALOG) == []
