"""DAGs written by fate_client 2.0.0 bind union's and evaluation's data under their FATE 2.0.0 names
(`input_data_list`, `input_data`; FATE 2.1 renamed both `input_datas`): they are accepted and the
component reads the input under its current name."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import parse_dag, resolve_task
from fate_grpc.errors import FateGrpcError

CATALOG = builtin_catalog()
GUEST, HOST = "9999", "10000"

# The shape fate_client 2.0.0's pipeline writes for FATE's union and evaluation examples.
DAG_2_0 = """
schema_version: 2.0.0
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  party_tasks:
    guest_9999:
      parties: [{role: guest, party_id: ['9999']}]
      tasks: {reader_0: {parameters: {name: breast_hetero_guest, namespace: experiment}}}
    host_10000:
      parties: [{role: host, party_id: ['10000']}]
      tasks: {reader_0: {parameters: {name: breast_hetero_host, namespace: experiment}}}
  stage: train
  tasks:
    reader_0: {component_ref: reader, parameters: {}, stage: default}
    psi_0:
      component_ref: psi
      dependent_tasks: [reader_0]
      inputs:
        data:
          input_data:
            task_output_artifact: {output_artifact_key: output_data, producer_task: reader_0}
      stage: default
    data_split_0:
      component_ref: data_split
      dependent_tasks: [psi_0]
      inputs:
        data:
          input_data:
            task_output_artifact: {output_artifact_key: output_data, producer_task: psi_0}
      parameters: {train_size: 0.6, validate_size: 0.1, test_size: null}
      stage: default
    union_0:
      component_ref: union
      dependent_tasks: [data_split_0]
      inputs:
        data:
          input_data_list:
            task_output_artifact:
            - {output_artifact_key: train_output_data, producer_task: data_split_0}
            - {output_artifact_key: test_output_data, producer_task: data_split_0}
      stage: default
    evaluation_0:
      component_ref: evaluation
      dependent_tasks: [psi_0]
      inputs:
        data:
          input_data:
            task_output_artifact:
            - output_artifact_key: output_data
              producer_task: psi_0
              parties: [{role: guest, party_id: ['9999']}]
      parameters: {default_eval_setting: binary}
      parties: [{role: guest, party_id: ['9999']}]
      stage: default
"""


def document() -> dict[str, Any]:
    return yaml.safe_load(DAG_2_0)


def inputs_of(task: str, role: str, party_id: str) -> list[tuple[str, int, str | None]]:
    resolved = resolve_task(parse_dag(document(), CATALOG), task, role, party_id, CATALOG)
    assert resolved is not None
    return [(i.key, i.index, i.output_artifact_key) for i in resolved.inputs]


def test_union_reads_input_data_list_as_input_datas() -> None:
    for role, party_id in (("guest", GUEST), ("host", HOST)):
        assert inputs_of("union_0", role, party_id) == [
            ("input_datas", 0, "train_output_data"),
            ("input_datas", 1, "test_output_data"),
        ]


def test_evaluation_reads_input_data_as_input_datas() -> None:
    assert inputs_of("evaluation_0", "guest", GUEST) == [("input_datas", 0, "output_data")]


def test_both_names_of_one_input_are_refused() -> None:
    made = document()
    union_data = made["dag"]["tasks"]["union_0"]["inputs"]["data"]
    union_data["input_datas"] = union_data["input_data_list"]
    with pytest.raises(FateGrpcError) as raised:
        parse_dag(made, CATALOG)
    assert raised.value.violations[0].field == "dag.tasks.union_0.inputs.data.input_data_list"
    assert "FATE 2.0's name of input input_datas" in raised.value.violations[0].reason


def test_a_former_name_of_another_component_is_still_unknown() -> None:
    made = document()
    union_data = made["dag"]["tasks"]["union_0"]["inputs"]["data"]
    union_data["input_data"] = union_data.pop("input_data_list")
    with pytest.raises(FateGrpcError) as raised:
        parse_dag(made, CATALOG)
    fields = [v.field for v in raised.value.violations]
    assert "dag.tasks.union_0.inputs.data.input_data" in fields
