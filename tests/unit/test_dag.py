"""Parsing and validation of FATE 2.x DAGs: every rejection names its field path."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.domain.dag import (
    Dag,
    PartyRef,
    PartySpec,
    load_dag_document,
    parse_dag,
    task_dependencies,
    task_parties,
    topological_order,
)
from fate_grpc.errors import ErrorCode, FateGrpcError, FieldViolation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dags" / "psi.yaml"

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
        "epochs": ParamSpec("epochs", (int,), default=10),
        "early_stop": ParamSpec("early_stop", (bool,), default=False),
        "penalty": ParamSpec("penalty", (str,), default="L2", choices=("L1", "L2")),
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

BASE = """
schema_version: 2.1.0
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  party_tasks:
    guest_9999:
      parties: [{role: guest, party_id: ['9999']}]
      tasks:
        reader_0: {parameters: {name: g_table, namespace: ns}}
    host_10000:
      parties: [{role: host, party_id: ['10000']}]
      tasks:
        reader_0: {parameters: {name: h_table, namespace: ns}}
  tasks:
    reader_0:
      component_ref: reader
    psi_0:
      component_ref: psi
      dependent_tasks: [reader_0]
      inputs:
        data:
          input_data:
            task_output_artifact: {producer_task: reader_0, output_artifact_key: output_data}
"""


def base() -> dict[str, Any]:
    return yaml.safe_load(BASE)


def violations_of(document: Any, catalog: Any = None) -> list[FieldViolation]:
    with pytest.raises(FateGrpcError) as info:
        parse_dag(document, CATALOG if catalog is None else catalog)
    assert info.value.code is ErrorCode.INVALID_DAG
    assert info.value.violations
    return info.value.violations


def assert_violation(document: Any, field: str, *words: str) -> FieldViolation:
    """The violation at `field`, whose reason contains every one of `words`."""
    found = violations_of(document)
    at_field = [v for v in found if v.field == field]
    assert at_field, f"no violation at {field!r}; got {[str(v) for v in found]}"
    matching = [v for v in at_field if all(w in v.reason for w in words)]
    assert matching, f"no reason with {words!r} at {field!r}; got {[v.reason for v in at_field]}"
    return matching[0]


# -- the example and valid documents --------------------------------------------------------------


def test_example_dag_parses() -> None:
    dag = parse_dag(EXAMPLE.read_text(), builtin_catalog())
    assert dag.schema_version == "2.1.0"
    assert dag.kind == "fate"
    assert dag.stage == "default"
    assert dag.conf.scheduler_party_id == "9999"
    assert dag.parties == (PartySpec("guest", ("9999",)), PartySpec("host", ("10000",)))
    assert list(dag.tasks) == ["reader_0", "psi_0"]
    assert set(dag.party_tasks) == {"guest_9999", "host_10000"}
    psi = dag.tasks["psi_0"]
    assert psi.component_ref == "psi"
    assert psi.dependent_tasks == ("reader_0",)
    (binding,) = psi.inputs
    assert (binding.key, binding.kind, binding.is_list) == ("input_data", "data", False)
    (channel,) = binding.channels
    assert channel.source == "task_output_artifact"
    assert (channel.producer_task, channel.output_artifact_key) == ("reader_0", "output_data")
    assert channel.parties == dag.parties
    assert psi.outputs == {"data": {"output_data": {"output_artifact_key_alias": "output_data"}}}
    assert task_dependencies(dag) == {"reader_0": frozenset(), "psi_0": frozenset({"reader_0"})}
    assert topological_order(dag) == ["reader_0", "psi_0"]


def test_mapping_and_text_give_the_same_dag() -> None:
    text = EXAMPLE.read_text()
    assert parse_dag(text, CATALOG) == parse_dag(yaml.safe_load(text), CATALOG)
    assert parse_dag(load_dag_document(text), CATALOG).tasks.keys() == {"reader_0", "psi_0"}


def test_parse_does_not_keep_references_to_the_document() -> None:
    document = base()
    dag = parse_dag(document, CATALOG)
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_0"]["parameters"]["name"] = "changed"
    assert dag.party_tasks["guest_9999"].tasks["reader_0"].parameters["name"] == "g_table"


def test_defaults_and_coercions() -> None:
    document = base()
    document["dag"]["parties"] = [
        {"role": "guest", "party_id": [9999]},
        {"role": "host", "party_id": [10000]},
    ]
    document["dag"]["conf"] = {"scheduler_party_id": 9999, "model_version": 0}
    document["schema_version"] = 2.1
    dag = parse_dag(document, CATALOG)
    assert dag.schema_version == "2.1"
    assert dag.kind == "fate"
    assert dag.stage == "default"
    assert dag.all_parties() == (PartyRef("guest", "9999"), PartyRef("host", "10000"))
    assert dag.conf.scheduler_party_id == "9999"
    assert dag.conf.model_version == "0"
    assert (dag.conf.priority, dag.conf.auto_retries) == (0, 0)
    assert dag.tasks["reader_0"].parties is None
    assert dag.tasks["reader_0"].stage is None


def test_full_job_conf() -> None:
    document = base()
    conf = {
        "priority": 3,
        "scheduler_party_id": "9999",
        "initiator_party_id": "10000",
        "inheritance": {"job_id": 202401010101010000001, "task_list": ["reader_0"]},
        "cores": 4,
        "computing_partitions": 8,
        "sync_type": "poll",
        "auto_retries": 2,
        "model_id": "m1",
        "model_version": 3,
        "model_warehouse": {"model_id": "m0", "model_version": 1},
        "task": {
            "engine_run": {"cores": 2},
            "provider": "fate:2.1.0@local",
            "timeout": 600,
            "launcher_name": "default",
        },
        "extra": {"any": ["thing"]},
        # The FATE client writes these; they are accepted and ignored.
        "task_parallelism": 2,
        "federated_status_collect_type": "PUSH",
        "engine": {"computing": "standalone"},
    }
    document["dag"]["conf"] = conf
    job = parse_dag(document, CATALOG).conf
    assert job.priority == 3
    assert (job.scheduler_party_id, job.initiator_party_id) == ("9999", "10000")
    assert job.inheritance == {"job_id": "202401010101010000001", "task_list": ["reader_0"]}
    assert (job.cores, job.computing_partitions, job.sync_type, job.auto_retries) == (4, 8, "poll", 2)
    assert (job.model_id, job.model_version) == ("m1", "3")
    assert job.model_warehouse == {"model_id": "m0", "model_version": "1"}
    assert job.task.engine_run == {"cores": 2}
    assert (job.task.provider, job.task.timeout, job.task.launcher_name) == (
        "fate:2.1.0@local",
        600,
        "default",
    )
    assert job.task.raw == conf["task"]
    assert job.extra == {"any": ["thing"]}
    assert job.raw == conf


def test_same_party_in_two_roles_is_allowed() -> None:
    document = base()
    document["dag"]["parties"][1]["party_id"] = ["9999"]
    document["dag"]["party_tasks"]["host_10000"]["parties"][0]["party_id"] = ["9999"]
    dag = parse_dag(document, CATALOG)
    assert dag.party_ids() == ("9999",)
    assert dag.roles_of("9999") == ("guest", "host")
    assert dag.roles_of("1") == ()


def test_json_document_indented_with_tabs() -> None:
    text = json.dumps(base(), indent="\t")
    assert "\t" in text
    assert load_dag_document(text) == base()
    assert parse_dag(text, CATALOG) == parse_dag(base(), CATALOG)


# -- loading --------------------------------------------------------------------------------------


def test_bad_yaml_names_line_and_column() -> None:
    with pytest.raises(FateGrpcError) as info:
        load_dag_document("schema_version: 2.1.0\ndag:\n  tasks: [a, b\n  parties: x\n")
    assert info.value.code is ErrorCode.INVALID_DAG
    assert "line " in info.value.message
    assert "column " in info.value.message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text", "42"])
def test_non_mapping_document(text: str) -> None:
    with pytest.raises(FateGrpcError) as info:
        parse_dag(text, CATALOG)
    assert info.value.code is ErrorCode.INVALID_DAG
    assert "must be a mapping" in info.value.message


# -- top level and dag keys -----------------------------------------------------------------------


def test_missing_schema_version() -> None:
    document = base()
    del document["schema_version"]
    assert_violation(document, "schema_version", "required")


def test_schema_version_must_be_2x() -> None:
    document = base()
    document["schema_version"] = "1.11.0"
    assert_violation(document, "schema_version", "2.")


def test_kind_must_be_fate() -> None:
    document = base()
    document["kind"] = "bfia"
    assert_violation(document, "kind", "fate")


def test_unknown_top_level_key() -> None:
    document = base()
    document["dagg"] = {}
    assert_violation(document, "dagg", "unknown key", "dag, kind, schema_version")


@pytest.mark.parametrize("value", [None, [], "x"])
def test_dag_must_be_a_mapping(value: Any) -> None:
    document = base()
    document["dag"] = value
    assert_violation(document, "dag")


def test_unknown_dag_key() -> None:
    document = base()
    document["dag"]["tsks"] = document["dag"]["tasks"]
    violation = assert_violation(document, "dag.tsks")
    assert violation.reason == "unknown key (expected one of: conf, parties, party_tasks, stage, tasks)"


def test_missing_tasks_and_parties() -> None:
    document = base()
    del document["dag"]["tasks"]
    del document["dag"]["parties"]
    fields = {v.field for v in violations_of(document)}
    assert {"dag.tasks", "dag.parties"} <= fields


def test_empty_tasks() -> None:
    document = base()
    document["dag"]["tasks"] = {}
    document["dag"]["party_tasks"] = {}
    assert_violation(document, "dag.tasks", "at least one task")


def test_bad_stage() -> None:
    document = base()
    document["dag"]["stage"] = "training"
    assert_violation(document, "dag.stage", "default, train, predict, cross_validation")


# -- parties --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parties", "field", "words"),
    [
        ([], "dag.parties", ("at least one party",)),
        ("guest", "dag.parties", ("list",)),
        (
            [{"role": "coordinator", "party_id": ["1"]}],
            "dag.parties[0].role",
            ("guest, host, arbiter, local",),
        ),
        ([{"role": "guest", "party_id": []}], "dag.parties[0].party_id", ("at least one",)),
        ([{"role": "guest", "party_id": "9999"}], "dag.parties[0].party_id", ("list",)),
        ([{"role": "guest", "party_id": [True]}], "dag.parties[0].party_id[0]", ("string or an integer",)),
        ([{"role": "guest", "party_id": ["a/b"]}], "dag.parties[0].party_id[0]", ("letters, digits",)),
        ([{"role": "guest"}], "dag.parties[0].party_id", ("required",)),
        ([{"role": "guest", "party_id": ["1"], "x": 1}], "dag.parties[0].x", ("unknown key",)),
        ([{"role": "guest", "party_id": ["1", "1"]}], "dag.parties[0].party_id", ("more than once",)),
        (
            [{"role": "guest", "party_id": ["1"]}, {"role": "guest", "party_id": ["2", "1"]}],
            "dag.parties[1].party_id",
            ("party 1 is listed more than once as guest",),
        ),
    ],
)
def test_bad_parties(parties: Any, field: str, words: tuple[str, ...]) -> None:
    document = base()
    document["dag"]["parties"] = parties
    assert_violation(document, field, *words)


def test_task_parties_must_be_declared() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["parties"] = [
        {"role": "guest", "party_id": ["9999"]},
        {"role": "host", "party_id": ["10000", "10001"]},
    ]
    assert_violation(document, "dag.tasks.reader_0.parties[1].party_id", "host 10001", "not declared")


def test_channel_parties_must_be_declared() -> None:
    document = base()
    channel = document["dag"]["tasks"]["psi_0"]["inputs"]["data"]["input_data"]["task_output_artifact"]
    channel["parties"] = [{"role": "arbiter", "party_id": ["1"]}]
    field = "dag.tasks.psi_0.inputs.data.input_data.task_output_artifact.parties[0].party_id"
    assert_violation(document, field, "arbiter 1", "not declared")


def test_party_tasks_parties_must_be_declared() -> None:
    document = base()
    document["dag"]["party_tasks"]["guest_9999"]["parties"] = [{"role": "guest", "party_id": ["8888"]}]
    assert_violation(document, "dag.party_tasks.guest_9999.parties[0].party_id", "guest 8888", "not declared")


def test_output_parties_must_be_declared() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["outputs"] = {
        "data": {"output_data": {"parties": [{"role": "host", "party_id": ["7"]}]}}
    }
    assert_violation(document, "dag.tasks.psi_0.outputs.data.output_data.parties[0].party_id", "not declared")


# -- conf -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conf", "field", "words"),
    [
        ({"priority": True}, "dag.conf.priority", ("integer", "boolean")),
        ({"priority": "high"}, "dag.conf.priority", ("integer", "string")),
        ({"cores": 0}, "dag.conf.cores", ("at least 1",)),
        ({"computing_partitions": -2}, "dag.conf.computing_partitions", ("at least 1",)),
        ({"sync_type": "push"}, "dag.conf.sync_type", ("callback, poll",)),
        ({"auto_retries": -1}, "dag.conf.auto_retries", ("at least 0",)),
        ({"auto_retries": 1.5}, "dag.conf.auto_retries", ("integer",)),
        ({"scheduler_party_id": "1234"}, "dag.conf.scheduler_party_id", ("1234", "not declared")),
        ({"scheduler_party_id": [1]}, "dag.conf.scheduler_party_id", ("string or an integer",)),
        ({"model_version": 1.5}, "dag.conf.model_version", ("string or an integer",)),
        ({"model_warehouse": {"model_id": "m"}}, "dag.conf.model_warehouse.model_version", ("required",)),
        ({"model_warehouse": "m"}, "dag.conf.model_warehouse", ("mapping",)),
        ({"inheritance": {"job_id": "j1"}}, "dag.conf.inheritance.task_list", ("required",)),
        (
            {"inheritance": {"job_id": "j1", "task_list": ["nope"]}},
            "dag.conf.inheritance.task_list[0]",
            ("not in dag.tasks",),
        ),
        ({"inheritance": {"job_id": "a/b", "task_list": []}}, "dag.conf.inheritance.job_id", ("job id",)),
        ({"task": {"provider": "fate"}}, "dag.conf.task.provider", ("name:version@device",)),
        ({"task": {"timeout": 0}}, "dag.conf.task.timeout", ("at least 1",)),
        ({"task": {"engine_run": ["x"]}}, "dag.conf.task.engine_run", ("mapping",)),
        ({"task": {"launcher_name": 3}}, "dag.conf.task.launcher_name", ("string",)),
        ({"task": {"retries": 3}}, "dag.conf.task.retries", ("unknown key",)),
        ({"extra": [1]}, "dag.conf.extra", ("mapping",)),
        ({"parallelism": 1}, "dag.conf.parallelism", ("unknown key", "auto_retries")),
        ("x", "dag.conf", ("mapping",)),
    ],
)
def test_bad_job_conf(conf: Any, field: str, words: tuple[str, ...]) -> None:
    document = base()
    document["dag"]["conf"] = conf
    assert_violation(document, field, *words)


def test_task_level_conf_types_are_checked() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["conf"] = {"timeout": "soon", "custom": 1}
    document["dag"]["party_tasks"]["guest_9999"]["conf"] = {"provider": "x@y"}
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_0"]["conf"] = {"engine_run": 1}
    found = {v.field for v in violations_of(document)}
    assert found == {
        "dag.tasks.psi_0.conf.timeout",
        "dag.party_tasks.guest_9999.conf.provider",
        "dag.party_tasks.guest_9999.tasks.reader_0.conf.engine_run",
    }


# -- tasks ----------------------------------------------------------------------------------------


def test_unknown_task_key() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["input"] = {}
    assert_violation(document, "dag.tasks.psi_0.input", "unknown key", "inputs")


def test_missing_component_ref() -> None:
    document = base()
    del document["dag"]["tasks"]["reader_0"]["component_ref"]
    assert_violation(document, "dag.tasks.reader_0.component_ref", "required")


def test_component_ref_must_be_a_string() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["component_ref"] = ["reader"]
    assert_violation(document, "dag.tasks.reader_0.component_ref", "string")


@pytest.mark.parametrize("name", ["bad/name", ".hidden", "a..b", "-x"])
def test_unsafe_task_name(name: str) -> None:
    document = base()
    document["dag"]["tasks"][name] = {"component_ref": "psi"}
    assert_violation(document, f"dag.tasks.{name}", "task name")


def test_unknown_component() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "sbt"
    assert_violation(
        document,
        "dag.tasks.psi_0.component_ref",
        "'sbt'",
        "(available: ",
        "psi, reader, sample, ",
        "toy_example, trainer, union)",
    )


def test_a_dag_without_stage_trains_multi_stage_components() -> None:
    document = base()
    document["dag"]["tasks"]["lr_0"] = {"component_ref": "trainer"}
    found = [v.field for v in violations_of(document)]
    assert "dag.tasks.lr_0.stage" not in found


def test_unsupported_stage_of_task() -> None:
    document = base()
    document["dag"]["tasks"]["lr_0"] = {"component_ref": "trainer", "stage": "cross_validation"}
    assert_violation(document, "dag.tasks.lr_0.stage", "trainer", "cross_validation", "train, predict")


def test_unsupported_stage_inherited_from_dag() -> None:
    document = base()
    document["dag"]["stage"] = "cross_validation"
    document["dag"]["tasks"]["lr_0"] = {"component_ref": "trainer"}
    assert_violation(document, "dag.tasks.lr_0.stage", "inherited from dag.stage")


def test_bad_task_stage_value() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["stage"] = "fit"
    assert_violation(document, "dag.tasks.psi_0.stage", "must be one of")


def test_role_not_supported_by_component() -> None:
    document = base()
    document["dag"]["parties"].append({"role": "arbiter", "party_id": ["9999"]})
    document["dag"]["tasks"]["psi_0"]["parties"] = [
        {"role": "guest", "party_id": ["9999"]},
        {"role": "arbiter", "party_id": ["9999"]},
    ]
    assert_violation(document, "dag.tasks.psi_0.parties", "psi", "cannot run as arbiter", "guest, host")


def test_role_from_dag_parties_not_supported() -> None:
    document = base()
    document["dag"]["parties"].append({"role": "arbiter", "party_id": ["1"]})
    assert_violation(document, "dag.tasks.psi_0", "cannot run as arbiter", "every party of the DAG")


def test_dependent_task_must_exist() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["dependent_tasks"] = ["reader_0", "reader_9"]
    assert_violation(document, "dag.tasks.psi_0.dependent_tasks[1]", "'reader_9'", "not in dag.tasks")


def test_dependent_tasks_must_be_strings() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["dependent_tasks"] = "reader_0"
    assert_violation(document, "dag.tasks.psi_0.dependent_tasks", "list")


def test_dependency_cycle() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["dependent_tasks"] = ["psi_0"]
    assert_violation(document, "dag.tasks.psi_0", "psi_0 -> reader_0 -> psi_0")


def test_task_depending_on_itself() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["dependent_tasks"] = ["reader_0"]
    assert_violation(document, "dag.tasks.reader_0", "reader_0 -> reader_0")


def test_cycle_through_inputs() -> None:
    document = base()
    document["dag"]["tasks"]["psi_1"] = {
        "component_ref": "psi",
        "inputs": {
            "data": {
                "input_data": {
                    "task_output_artifact": {"producer_task": "psi_2", "output_artifact_key": "output_data"}
                }
            }
        },
    }
    document["dag"]["tasks"]["psi_2"] = {
        "component_ref": "psi",
        "inputs": {
            "data": {
                "input_data": {
                    "task_output_artifact": {"producer_task": "psi_1", "output_artifact_key": "output_data"}
                }
            }
        },
    }
    assert_violation(document, "dag.tasks.psi_1", "psi_1 -> psi_2 -> psi_1")


# -- inputs and outputs ---------------------------------------------------------------------------

INPUT = "dag.tasks.psi_0.inputs.data.input_data"


def psi_input(document: dict[str, Any]) -> dict[str, Any]:
    return document["dag"]["tasks"]["psi_0"]["inputs"]["data"]["input_data"]


def test_unknown_input_key() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["inputs"]["data"]["train_data"] = psi_input(document)
    assert_violation(document, "dag.tasks.psi_0.inputs.data.train_data", "no data input", "input_data")


def test_input_under_the_wrong_kind() -> None:
    document = base()
    inputs = document["dag"]["tasks"]["psi_0"]["inputs"]
    inputs["model"] = {"input_data": inputs.pop("data")["input_data"]}
    assert_violation(document, "dag.tasks.psi_0.inputs.model.input_data", "put it under inputs.data")
    assert_violation(document, INPUT, "required", "not bound")


def test_unknown_input_kind() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["inputs"]["metric"] = {}
    assert_violation(document, "dag.tasks.psi_0.inputs.metric", "unknown key", "data, model")


def test_several_channels_for_a_single_input() -> None:
    document = base()
    channel = psi_input(document)["task_output_artifact"]
    psi_input(document)["task_output_artifact"] = [channel, dict(channel)]
    assert_violation(document, INPUT, "takes one channel, got 2")


def test_one_channel_in_a_list_is_fine() -> None:
    document = base()
    psi_input(document)["task_output_artifact"] = [psi_input(document)["task_output_artifact"]]
    binding = parse_dag(document, CATALOG).tasks["psi_0"].inputs[0]
    assert binding.is_list
    assert len(binding.channels) == 1


def test_unknown_source() -> None:
    document = base()
    psi_input(document)["upstream"] = {}
    assert_violation(document, f"{INPUT}.upstream", "unknown key", "task_output_artifact")


def test_input_without_source() -> None:
    document = base()
    psi_input(document).clear()
    assert_violation(document, INPUT, "must name a source")


def test_empty_channel_list() -> None:
    document = base()
    psi_input(document)["task_output_artifact"] = []
    assert_violation(document, f"{INPUT}.task_output_artifact", "at least one channel")


def test_channel_extra_key_is_forbidden() -> None:
    document = base()
    psi_input(document)["task_output_artifact"]["output_artifact_key_alias"] = "x"
    assert_violation(document, f"{INPUT}.task_output_artifact.output_artifact_key_alias", "unknown key")


def test_channel_required_keys() -> None:
    document = base()
    del psi_input(document)["task_output_artifact"]["producer_task"]
    assert_violation(document, f"{INPUT}.task_output_artifact.producer_task", "required")


def test_producer_must_exist() -> None:
    document = base()
    psi_input(document)["task_output_artifact"]["producer_task"] = "reader_9"
    assert_violation(
        document, f"{INPUT}.task_output_artifact.producer_task", "'reader_9'", "not in dag.tasks"
    )


def test_producer_output_key_must_exist() -> None:
    document = base()
    psi_input(document)["task_output_artifact"]["output_artifact_key"] = "data"
    field = f"{INPUT}.task_output_artifact.output_artifact_key"
    assert_violation(document, field, "reader_0", "no data output 'data'", "output_data")


def test_producer_output_kind_must_match() -> None:
    document = base()
    document["dag"]["stage"] = "predict"
    document["dag"]["tasks"]["lr_0"] = {
        "component_ref": "trainer",
        "stage": "train",
        "parameters": {"label": "y"},
        "inputs": {
            "data": {
                "train_data": {
                    "task_output_artifact": {"producer_task": "psi_0", "output_artifact_key": "output_data"}
                }
            }
        },
    }
    document["dag"]["tasks"]["lr_1"] = {
        "component_ref": "trainer",
        "parameters": {"label": "y"},
        "inputs": {
            "data": {
                "test_data": {
                    "task_output_artifact": {"producer_task": "lr_0", "output_artifact_key": "output_model"}
                }
            },
            "model": {
                "input_model": {
                    "task_output_artifact": {"producer_task": "lr_0", "output_artifact_key": "output_model"}
                }
            },
        },
    }
    field = "dag.tasks.lr_1.inputs.data.test_data.task_output_artifact.output_artifact_key"
    assert_violation(document, field, "no data output 'output_model'", "train_output_data")
    # The same key is fine where a model is expected.
    fields = {v.field for v in violations_of(document)}
    assert "dag.tasks.lr_1.inputs.model.input_model.task_output_artifact.output_artifact_key" not in fields


def test_producer_must_run_at_the_channel_parties() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["parties"] = [{"role": "guest", "party_id": ["9999"]}]
    psi_input(document)["task_output_artifact"]["parties"] = [{"role": "host", "party_id": ["10000"]}]
    assert_violation(document, f"{INPUT}.task_output_artifact.parties", "reader_0 does not run at host 10000")


def test_required_input_not_bound() -> None:
    document = base()
    del document["dag"]["tasks"]["psi_0"]["inputs"]
    assert_violation(document, INPUT, "required data input of component psi is not bound")


def test_required_input_missing_for_one_party() -> None:
    document = base()
    psi_input(document)["task_output_artifact"]["parties"] = [{"role": "guest", "party_id": ["9999"]}]
    assert_violation(document, INPUT, "no channel for host 10000")


def test_required_input_missing_where_the_producer_does_not_run() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["parties"] = [{"role": "guest", "party_id": ["9999"]}]
    document["dag"]["party_tasks"].pop("host_10000")
    assert_violation(document, INPUT, "no channel for host 10000")


def test_model_warehouse_cannot_feed_data() -> None:
    document = base()
    psi_input(document)["model_warehouse"] = {"producer_task": "x", "output_artifact_key": "y"}
    assert_violation(document, f"{INPUT}.model_warehouse", "only feed model inputs")


def test_data_warehouse_needs_an_address() -> None:
    document = base()
    psi_input(document).clear()
    psi_input(document)["data_warehouse"] = {"namespace": "ns"}
    assert_violation(document, f"{INPUT}.data_warehouse", "namespace and name")


def test_data_warehouse_names_are_safe() -> None:
    document = base()
    psi_input(document).clear()
    psi_input(document)["data_warehouse"] = {"namespace": "../etc", "name": "t"}
    assert_violation(document, f"{INPUT}.data_warehouse.namespace", "'../etc'")


def test_warehouse_channels_parse() -> None:
    document = base()
    psi_input(document).clear()
    psi_input(document)["data_warehouse"] = {
        "job_id": 202401,
        "producer_task": "psi_0",
        "output_artifact_key": "output_data",
    }
    (channel,) = parse_dag(document, CATALOG).tasks["psi_0"].inputs[0].channels
    assert (channel.source, channel.job_id, channel.producer_task) == ("data_warehouse", "202401", "psi_0")
    # A warehouse producer is a task of another job: no dependency here.
    assert task_dependencies(parse_dag(document, CATALOG))["psi_0"] == {"reader_0"}


def test_unknown_output_kind_and_key() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["outputs"] = {
        "data": {"result": {"output_artifact_key_alias": "result"}},
        "model": {"output_data": {}},
        "metric": {"metric": {"output_artifact_key_alias": "metric"}},
        "logs": {},
    }
    assert_violation(document, "dag.tasks.psi_0.outputs.data.result", "no data output 'result'")
    assert_violation(document, "dag.tasks.psi_0.outputs.model.output_data", "no model output")
    assert_violation(document, "dag.tasks.psi_0.outputs.logs", "unknown key")
    fields = {v.field for v in violations_of(document)}
    assert "dag.tasks.psi_0.outputs.metric.metric" not in fields


def test_output_spec_extra_key() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["outputs"] = {"data": {"output_data": {"alias": "x"}}}
    assert_violation(document, "dag.tasks.psi_0.outputs.data.output_data.alias", "unknown key")


# -- parameters -----------------------------------------------------------------------------------


def test_unknown_parameter() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["parameters"] = {"protocl": "ecdh_psi"}
    assert_violation(
        document, "dag.tasks.psi_0.parameters.protocl", "unknown parameter", "protocol, curve_type"
    )


def test_unknown_parameter_in_party_tasks() -> None:
    document = base()
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_0"]["parameters"]["table"] = "t"
    assert_violation(
        document, "dag.party_tasks.guest_9999.tasks.reader_0.parameters.table", "unknown parameter"
    )


def test_parameter_of_the_wrong_type() -> None:
    document = base()
    document["dag"]["party_tasks"]["host_10000"]["tasks"]["reader_0"]["parameters"]["name"] = 5
    field = "dag.party_tasks.host_10000.tasks.reader_0.parameters.name"
    assert_violation(document, field, "must be a string, got integer")


def test_parameter_not_in_choices() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["parameters"] = {"protocol": "rsa_psi"}
    assert_violation(document, "dag.tasks.psi_0.parameters.protocol", "only 'ecdh_psi'", "'rsa_psi'")


def trainer_document(parameters: dict[str, Any]) -> dict[str, Any]:
    document = base()
    document["dag"]["stage"] = "train"
    document["dag"]["tasks"]["lr_0"] = {
        "component_ref": "trainer",
        "parameters": parameters,
        "inputs": {
            "data": {
                "train_data": {
                    "task_output_artifact": {"producer_task": "psi_0", "output_artifact_key": "output_data"}
                }
            }
        },
    }
    return document


def test_bool_is_not_an_integer_but_an_integer_is_a_float() -> None:
    assert_violation(
        trainer_document({"label": "y", "epochs": True}),
        "dag.tasks.lr_0.parameters.epochs",
        "an integer, got boolean",
    )
    assert_violation(
        trainer_document({"label": "y", "learning_rate": "0.1"}),
        "dag.tasks.lr_0.parameters.learning_rate",
        "a number, got string",
    )
    assert_violation(
        trainer_document({"label": "y", "early_stop": 1}), "dag.tasks.lr_0.parameters.early_stop", "a boolean"
    )
    dag = parse_dag(
        trainer_document({"label": "y", "learning_rate": 1, "epochs": 3, "early_stop": True}), CATALOG
    )
    assert dag.tasks["lr_0"].parameters["learning_rate"] == 1


def test_required_parameter_missing_for_a_party() -> None:
    document = base()
    del document["dag"]["party_tasks"]["guest_9999"]
    violation = assert_violation(document, "dag.tasks.reader_0.parameters.name", "required for guest 9999")
    fields = [v.field for v in violations_of(document)]
    assert fields.count("dag.tasks.reader_0.parameters.name") == 1
    assert "required for host 10000" not in violation.reason


def test_required_parameter_only_for_required_roles() -> None:
    # `label` is required for the guest only; the host runs without it.
    document = trainer_document({})
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["lr_0"] = {"parameters": {"label": "y"}}
    parse_dag(document, CATALOG)
    assert_violation(trainer_document({}), "dag.tasks.lr_0.parameters.label", "required for guest 9999")


def test_null_parameter_counts_as_unset() -> None:
    document = base()
    document["dag"]["tasks"]["reader_0"]["parameters"] = {"namespace": None}
    parse_dag(document, CATALOG)
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_0"]["parameters"]["namespace"] = None
    assert_violation(document, "dag.tasks.reader_0.parameters.namespace", "required for guest 9999")


def test_parameters_must_be_a_mapping() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["parameters"] = ["protocol"]
    assert_violation(document, "dag.tasks.psi_0.parameters", "mapping")


# -- party_tasks ----------------------------------------------------------------------------------


def test_party_tasks_unknown_key() -> None:
    document = base()
    document["dag"]["party_tasks"]["guest_9999"]["params"] = {}
    assert_violation(document, "dag.party_tasks.guest_9999.params", "unknown key", "conf, parties, tasks")


def test_party_tasks_unknown_task() -> None:
    document = base()
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_9"] = {"parameters": {}}
    assert_violation(document, "dag.party_tasks.guest_9999.tasks.reader_9", "'reader_9'", "not in dag.tasks")


def test_party_tasks_task_unknown_key() -> None:
    document = base()
    document["dag"]["party_tasks"]["guest_9999"]["tasks"]["reader_0"]["inputs"] = {}
    assert_violation(
        document, "dag.party_tasks.guest_9999.tasks.reader_0.inputs", "unknown key", "conf, parameters"
    )


def test_party_tasks_need_parties() -> None:
    document = base()
    del document["dag"]["party_tasks"]["guest_9999"]["parties"]
    violations = violations_of(document)
    assert any(v.field == "dag.party_tasks.guest_9999.parties" and "required" in v.reason for v in violations)
    # The entry's overrides are unknown, so no guess about missing required parameters.
    assert not any(v.field == "dag.tasks.reader_0.parameters.name" for v in violations)


# -- collecting -----------------------------------------------------------------------------------


def test_all_violations_are_collected() -> None:
    document = base()
    document["schema_version"] = "3.0"
    document["dag"]["stage"] = "x"
    document["dag"]["conf"] = {"cores": 0, "sync_type": "push"}
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "nope"
    document["dag"]["tasks"]["reader_0"]["parameters"] = {"nme": "x"}
    document["dag"]["party_tasks"]["host_10000"]["tasks"]["ghost"] = {}
    with pytest.raises(FateGrpcError) as info:
        parse_dag(document, CATALOG)
    fields = {v.field for v in info.value.violations}
    assert fields >= {
        "schema_version",
        "dag.stage",
        "dag.conf.cores",
        "dag.conf.sync_type",
        "dag.tasks.psi_0.component_ref",
        "dag.tasks.reader_0.parameters.nme",
        "dag.party_tasks.host_10000.tasks.ghost",
    }
    assert f"invalid DAG: {len(info.value.violations)} problems; the first: " in info.value.message
    assert len(info.value.violations) == len({(v.field, v.reason) for v in info.value.violations})


def test_catalog_problems_are_reported_even_with_broken_parties() -> None:
    document = base()
    document["dag"]["parties"][0]["role"] = "gust"
    document["dag"]["tasks"]["psi_0"]["parameters"] = {"protocol": "rsa"}
    psi_input(document)["task_output_artifact"]["output_artifact_key"] = "x"
    fields = {v.field for v in violations_of(document)}
    assert fields == {
        "dag.parties[0].role",
        "dag.tasks.psi_0.parameters.protocol",
        f"{INPUT}.task_output_artifact.output_artifact_key",
    }


def test_violations_are_deterministic() -> None:
    document = base()
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "nope"
    document["dag"]["conf"] = {"cores": 0}
    assert violations_of(document) == violations_of(copy.deepcopy(document))


# -- graph ----------------------------------------------------------------------------------------


def chain_document(order: list[str]) -> dict[str, Any]:
    """Independent readers a, b, c, a psi on b, and a union of everything else."""
    tasks: dict[str, Any] = {
        "read_c": {"component_ref": "reader", "parameters": {"name": "c", "namespace": "n"}},
        "read_a": {"component_ref": "reader", "parameters": {"name": "a", "namespace": "n"}},
        "read_b": {"component_ref": "reader", "parameters": {"name": "b", "namespace": "n"}},
        "psi_b": {
            "component_ref": "psi",
            "inputs": {
                "data": {
                    "input_data": {
                        "task_output_artifact": {
                            "producer_task": "read_b",
                            "output_artifact_key": "output_data",
                        }
                    }
                }
            },
        },
        "all": {
            "component_ref": "union",
            "dependent_tasks": ["read_c"],
            "inputs": {
                "data": {
                    "input_data_list": {
                        "task_output_artifact": [
                            {"producer_task": "psi_b", "output_artifact_key": "output_data"},
                            {"producer_task": "read_a", "output_artifact_key": "output_data"},
                        ]
                    }
                }
            },
        },
    }
    document = base()
    document["dag"]["tasks"] = {name: tasks[name] for name in order}
    document["dag"]["party_tasks"] = {}
    return document


def test_topological_order_is_deterministic() -> None:
    names = ["read_c", "read_a", "read_b", "psi_b", "all"]
    # Every 7th of the 120 insertion orders is plenty.
    permutations = itertools.islice(itertools.permutations(names), 0, None, 7)
    orders = {tuple(topological_order(parse_dag(chain_document(list(p)), CATALOG))) for p in permutations}
    assert orders == {("read_a", "read_b", "psi_b", "read_c", "all")}


def test_dependencies_combine_dependent_tasks_and_inputs() -> None:
    dag = parse_dag(chain_document(["read_c", "read_a", "read_b", "psi_b", "all"]), CATALOG)
    assert task_dependencies(dag)["all"] == {"read_c", "psi_b", "read_a"}
    assert task_dependencies(dag)["psi_b"] == {"read_b"}


def test_topological_order_rejects_a_cycle_in_a_built_dag() -> None:
    dag = parse_dag(base(), CATALOG)
    reader = dag.tasks["reader_0"]
    looped = Dag(
        dag.schema_version,
        dag.kind,
        dag.parties,
        dag.conf,
        dag.stage,
        {**dag.tasks, "reader_0": type(reader)(**{**reader.__dict__, "dependent_tasks": ("psi_0",)})},
        dag.party_tasks,
    )
    with pytest.raises(FateGrpcError) as info:
        topological_order(looped)
    assert info.value.code is ErrorCode.INVALID_DAG
    assert "psi_0 -> reader_0 -> psi_0" in info.value.message


def test_task_parties_default_to_the_dag_parties() -> None:
    dag = parse_dag(EXAMPLE.read_text(), CATALOG)
    assert task_parties(dag, "reader_0") == (PartyRef("guest", "9999"), PartyRef("host", "10000"))
    document = base()
    dag = parse_dag(document, CATALOG)
    assert task_parties(dag, "psi_0") == dag.all_parties()


# -- robustness -----------------------------------------------------------------------------------

_scalars = (
    st.none() | st.booleans() | st.integers(-5, 100_000) | st.floats(allow_nan=True) | st.text(max_size=12)
)
_keys = st.sampled_from(
    [
        "schema_version",
        "kind",
        "dag",
        "parties",
        "role",
        "party_id",
        "tasks",
        "conf",
        "stage",
        "party_tasks",
        "component_ref",
        "inputs",
        "data",
        "model",
        "task_output_artifact",
        "producer_task",
        "output_artifact_key",
        "parameters",
        "reader_0",
        "psi_0",
        "guest",
        "name",
    ]
) | st.text(max_size=6)
_values = st.recursive(
    _scalars | st.sampled_from(["guest", "host", "2.1.0", "reader", "psi", "9999", "default", "output_data"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys | st.integers(0, 3), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(_keys, _values, max_size=5))
def test_arbitrary_documents_never_crash(document: dict[Any, Any]) -> None:
    try:
        parse_dag(document, CATALOG)
    except FateGrpcError as error:
        assert error.code is ErrorCode.INVALID_DAG
        assert error.violations


def _mutations() -> st.SearchStrategy[tuple[list[str], Any]]:
    paths = st.sampled_from(
        [
            ["dag"],
            ["dag", "parties"],
            ["dag", "parties", 0],
            ["dag", "parties", 0, "party_id"],
            ["dag", "tasks"],
            ["dag", "tasks", "psi_0"],
            ["dag", "tasks", "psi_0", "inputs"],
            ["dag", "tasks", "psi_0", "inputs", "data", "input_data"],
            ["dag", "tasks", "psi_0", "inputs", "data", "input_data", "task_output_artifact"],
            ["dag", "tasks", "psi_0", "dependent_tasks"],
            ["dag", "tasks", "reader_0", "parameters"],
            ["dag", "party_tasks"],
            ["dag", "party_tasks", "guest_9999"],
            ["dag", "party_tasks", "guest_9999", "tasks", "reader_0"],
            ["dag", "conf"],
        ]
    )
    return st.tuples(paths, _values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=_mutations())
def test_mutated_example_never_crashes(mutation: tuple[list[Any], Any]) -> None:
    path, value = mutation
    document = base()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    try:
        parse_dag(document, CATALOG)
    except FateGrpcError as error:
        assert error.code is ErrorCode.INVALID_DAG
        assert error.violations
