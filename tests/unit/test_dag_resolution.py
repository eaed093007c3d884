"""Per-party resolution of DAGs: parameters, conf, stages and inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.domain.dag import (
    PartyRef,
    ResolvedInput,
    parse_dag,
    resolve_party,
    resolve_task,
    task_parties,
)
from fate_grpc.errors import ErrorCode, FateGrpcError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dags" / "psi.yaml"
GUEST = PartyRef("guest", "9999")
HOST = PartyRef("host", "10000")
ARBITER = PartyRef("arbiter", "1")

GH = frozenset({"guest", "host"})
TRAINER = ComponentSpec(
    name="trainer",
    roles=frozenset({"guest", "host", "arbiter"}),
    stages={
        "train": StageSpec(
            inputs=(
                ArtifactSpec("train_data", "data", GH),
                ArtifactSpec("validate_data", "data", GH, optional=True),
            ),
            outputs=(
                ArtifactSpec("train_output_data", "data", GH),
                ArtifactSpec("output_model", "model", GH),
            ),
        ),
        "predict": StageSpec(
            inputs=(ArtifactSpec("test_data", "data", GH), ArtifactSpec("input_model", "model", GH)),
            outputs=(ArtifactSpec("test_output_data", "data", GH),),
        ),
    },
    parameters={
        "learning_rate": ParamSpec("learning_rate", (float,), default=0.1),
        "optimizer": ParamSpec("optimizer", (dict,), default={"method": "sgd"}),
        "label": ParamSpec("label", (str,), required=True, required_roles=frozenset({"guest"})),
    },
)
UNION = ComponentSpec(
    name="union",
    roles=GH,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec("input_data_list", "data", GH, multi=True),),
            outputs=(ArtifactSpec("output_data", "data", GH),),
        )
    },
)
CATALOG = {**builtin_catalog(), "trainer": TRAINER, "union": UNION}

TRAIN_DAG = """
schema_version: 2.1.0
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  - {role: arbiter, party_id: ['1']}
  stage: train
  conf:
    model_warehouse: {model_id: m_0, model_version: 7}
    task:
      timeout: 100
      provider: fate:2.1.0@local
      engine_run: {cores: 1, memory: 10}
  party_tasks:
    guest_9999:
      parties: [{role: guest, party_id: ['9999']}]
      conf: {timeout: 300, engine_run: {memory: 30}}
      tasks:
        reader_0: {parameters: {name: g_table, namespace: ns}}
        lr_0:
          parameters: {label: y, optimizer: {alpha: 1}}
          conf: {engine_run: {cores: 4}}
    host_10000:
      parties: [{role: host, party_id: ['10000']}]
      tasks:
        reader_0: {parameters: {name: h_table, namespace: ns}}
  tasks:
    reader_0:
      component_ref: reader
      parties:
      - {role: guest, party_id: ['9999']}
      - {role: host, party_id: ['10000']}
    reader_1:
      component_ref: reader
      parties: [{role: guest, party_id: ['9999']}]
      parameters: {name: validate, namespace: ns}
    lr_0:
      component_ref: trainer
      parameters: {learning_rate: 0.5, optimizer: {method: adam, beta: 0.9}}
      conf: {timeout: 200, launcher_name: deepspeed}
      inputs:
        data:
          train_data:
            task_output_artifact: {producer_task: reader_0, output_artifact_key: output_data}
          validate_data:
            task_output_artifact: {producer_task: reader_1, output_artifact_key: output_data}
    lr_1:
      component_ref: trainer
      stage: predict
      dependent_tasks: [lr_0]
      parameters: {label: y}
      parties:
      - {role: guest, party_id: ['9999']}
      - {role: host, party_id: ['10000']}
      inputs:
        data:
          test_data:
            task_output_artifact: {producer_task: reader_0, output_artifact_key: output_data}
        model:
          input_model:
            model_warehouse:
              producer_task: lr_0
              output_artifact_key: output_model
    union_0:
      component_ref: union
      parties:
      - {role: guest, party_id: ['9999']}
      - {role: host, party_id: ['10000']}
      inputs:
        data:
          input_data_list:
            task_output_artifact:
            - {producer_task: reader_1, output_artifact_key: output_data}
            - {producer_task: reader_0, output_artifact_key: output_data}
            - producer_task: reader_0
              output_artifact_key: output_data
              parties: [{role: host, party_id: ['10000']}]
"""


def train_document() -> dict[str, Any]:
    return yaml.safe_load(TRAIN_DAG)


def resolve(party: PartyRef, task: str, document: dict[str, Any] | None = None) -> Any:
    dag = parse_dag(document or train_document(), CATALOG)
    return resolve_task(dag, task, party.role, party.party_id, CATALOG)


def channel_summary(inputs: tuple[ResolvedInput, ...]) -> list[tuple[str, int, str | None]]:
    return [(i.key, i.index, i.producer_task) for i in inputs]


# -- the example ----------------------------------------------------------------------------------


def test_example_resolves_at_the_guest() -> None:
    catalog = builtin_catalog()
    dag = parse_dag(EXAMPLE.read_text(), catalog)
    reader, psi = resolve_party(dag, "guest", "9999", catalog)
    assert reader.name == "reader_0"
    assert reader.component == "reader"
    assert reader.stage == "default"
    assert reader.parameters == {"name": "breast_hetero_guest", "namespace": "experiment"}
    assert reader.inputs == ()
    assert reader.parties == (GUEST, HOST)
    assert reader.dependencies == frozenset()
    assert psi.name == "psi_0"
    assert psi.parameters == {"protocol": "ecdh_psi", "curve_type": "curve25519"}
    assert psi.dependencies == {"reader_0"}
    assert psi.inputs == (
        ResolvedInput(
            key="input_data",
            kind="data",
            index=0,
            source="task_output_artifact",
            producer_task="reader_0",
            output_artifact_key="output_data",
            model_id=None,
            model_version=None,
            job_id=None,
            namespace=None,
            name=None,
        ),
    )
    assert psi.conf == {}


def test_example_resolves_at_the_host() -> None:
    catalog = builtin_catalog()
    dag = parse_dag(EXAMPLE.read_text(), catalog)
    reader, psi = resolve_party(dag, "host", "10000", catalog)
    assert reader.parameters == {"name": "breast_hetero_host", "namespace": "experiment"}
    assert channel_summary(psi.inputs) == [("input_data", 0, "reader_0")]


def test_example_has_nothing_for_other_parties() -> None:
    catalog = builtin_catalog()
    dag = parse_dag(EXAMPLE.read_text(), catalog)
    assert resolve_party(dag, "host", "9999", catalog) == []
    assert resolve_task(dag, "psi_0", "guest", "10000", catalog) is None


def test_unknown_task() -> None:
    dag = parse_dag(EXAMPLE.read_text(), CATALOG)
    with pytest.raises(FateGrpcError) as info:
        resolve_task(dag, "psi_9", "guest", "9999", CATALOG)
    assert info.value.code is ErrorCode.NOT_FOUND


def test_component_missing_from_the_resolving_catalog() -> None:
    dag = parse_dag(EXAMPLE.read_text(), CATALOG)
    with pytest.raises(FateGrpcError) as info:
        resolve_task(dag, "psi_0", "guest", "9999", {"reader": CATALOG["reader"]})
    assert info.value.code is ErrorCode.INVALID_DAG


# -- parameters and conf --------------------------------------------------------------------------


def test_party_parameters_update_the_task_parameters_shallowly() -> None:
    guest = resolve(GUEST, "lr_0")
    # The guest's optimizer replaces the task's one whole (FATE's dict.update), it is not merged.
    assert guest.parameters == {"learning_rate": 0.5, "optimizer": {"alpha": 1}, "label": "y"}
    host = resolve(HOST, "lr_0")
    assert host.parameters == {
        "learning_rate": 0.5,
        "optimizer": {"method": "adam", "beta": 0.9},
        "label": None,
    }


def test_defaults_fill_unset_parameters() -> None:
    document = train_document()
    document["dag"]["tasks"]["lr_0"]["parameters"] = {}
    arbiter = resolve(ARBITER, "lr_0", document)
    assert arbiter.parameters == {"learning_rate": 0.1, "optimizer": {"method": "sgd"}, "label": None}
    # Defaults are copies: changing one result does not change the spec.
    arbiter.parameters["optimizer"]["method"] = "changed"
    assert TRAINER.parameters["optimizer"].default == {"method": "sgd"}


def test_conf_precedence() -> None:
    guest = resolve(GUEST, "lr_0")
    assert guest.conf == {
        "timeout": 300,  # party_tasks entry conf over task conf over dag.conf.task
        "provider": "fate:2.1.0@local",
        "engine_run": {"cores": 4, "memory": 30},  # deep-merged across all four levels
        "launcher_name": "deepspeed",
    }
    host = resolve(HOST, "lr_0")
    assert host.conf == {
        "timeout": 200,
        "provider": "fate:2.1.0@local",
        "engine_run": {"cores": 1, "memory": 10},
        "launcher_name": "deepspeed",
    }
    reader = resolve(GUEST, "reader_0")
    assert reader.conf == {
        "timeout": 300,
        "provider": "fate:2.1.0@local",
        "engine_run": {"cores": 1, "memory": 30},
    }


def test_resolved_values_are_independent_copies() -> None:
    dag = parse_dag(train_document(), CATALOG)
    first = resolve_task(dag, "lr_0", "guest", "9999", CATALOG)
    assert first is not None
    first.conf["engine_run"]["cores"] = 99
    first.parameters["optimizer"]["alpha"] = 99
    again = resolve_task(dag, "lr_0", "guest", "9999", CATALOG)
    assert again is not None
    assert again.conf["engine_run"]["cores"] == 4
    assert again.parameters["optimizer"] == {"alpha": 1}


# -- stages ---------------------------------------------------------------------------------------


def test_stage_inheritance() -> None:
    assert resolve(GUEST, "lr_0").stage == "train"  # from dag.stage
    assert resolve(GUEST, "lr_1").stage == "predict"  # the task's own stage
    assert resolve(GUEST, "reader_0").stage == "default"  # single-stage component


# -- inputs ---------------------------------------------------------------------------------------


def test_inputs_follow_where_the_producer_runs() -> None:
    # reader_1 runs at the guest only, so only the guest gets validate_data.
    assert channel_summary(resolve(GUEST, "lr_0").inputs) == [
        ("train_data", 0, "reader_0"),
        ("validate_data", 0, "reader_1"),
    ]
    assert channel_summary(resolve(HOST, "lr_0").inputs) == [("train_data", 0, "reader_0")]


def test_inputs_for_other_roles_are_not_given() -> None:
    # train_data is declared for guest and host; the arbiter runs lr_0 without inputs.
    assert resolve(ARBITER, "lr_0").inputs == ()


def test_list_inputs_are_indexed_per_party() -> None:
    dag = parse_dag(train_document(), CATALOG)
    assert dag.tasks["union_0"].inputs[0].is_list
    guest = resolve(GUEST, "union_0")
    assert channel_summary(guest.inputs) == [
        ("input_data_list", 0, "reader_1"),
        ("input_data_list", 1, "reader_0"),
    ]
    host = resolve(HOST, "union_0")
    assert channel_summary(host.inputs) == [
        ("input_data_list", 0, "reader_0"),
        ("input_data_list", 1, "reader_0"),
    ]


def test_model_warehouse_is_filled_from_the_job_conf() -> None:
    (_, model) = resolve(GUEST, "lr_1").inputs
    assert (model.kind, model.source, model.model_id, model.model_version) == (
        "model",
        "model_warehouse",
        "m_0",
        "7",
    )
    assert (model.producer_task, model.output_artifact_key) == ("lr_0", "output_model")
    document = train_document()
    channel = document["dag"]["tasks"]["lr_1"]["inputs"]["model"]["input_model"]["model_warehouse"]
    channel["model_id"] = "m_9"
    (_, model) = resolve(GUEST, "lr_1", document).inputs
    assert (model.model_id, model.model_version) == ("m_9", "7")


def test_data_warehouse_input() -> None:
    document = train_document()
    document["dag"]["tasks"]["lr_1"]["inputs"]["data"]["test_data"] = {
        "data_warehouse": {"namespace": "ns", "name": "test_table"}
    }
    (data, _) = resolve(HOST, "lr_1", document).inputs
    assert (data.source, data.namespace, data.name, data.producer_task) == (
        "data_warehouse",
        "ns",
        "test_table",
        None,
    )


# -- whole parties --------------------------------------------------------------------------------


def test_resolve_party_in_topological_order() -> None:
    dag = parse_dag(train_document(), CATALOG)
    assert [t.name for t in resolve_party(dag, "guest", "9999", CATALOG)] == [
        "reader_0",
        "reader_1",
        "lr_0",
        "lr_1",
        "union_0",
    ]
    assert [t.name for t in resolve_party(dag, "host", "10000", CATALOG)] == [
        "reader_0",
        "lr_0",
        "lr_1",
        "union_0",
    ]
    assert [t.name for t in resolve_party(dag, "arbiter", "1", CATALOG)] == ["lr_0"]


def test_dependencies_of_resolved_tasks() -> None:
    dag = parse_dag(train_document(), CATALOG)
    by_name = {t.name: t for t in resolve_party(dag, "guest", "9999", CATALOG)}
    assert by_name["lr_0"].dependencies == {"reader_0", "reader_1"}
    # A warehouse input adds no dependency; dependent_tasks does.
    assert by_name["lr_1"].dependencies == {"reader_0", "lr_0"}
    assert by_name["lr_0"].parties == task_parties(dag, "lr_0") == (GUEST, HOST, ARBITER)
