"""Reading DAG documents: YAML 1.2 values exactly as written, and bounded, whole refusals."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import ScalarNode

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import load_dag_document, parse_dag
from fate_grpc.domain.dag_loading import MAX_DEPTH, MAX_NODES, Yaml12Loader, load_yaml12
from fate_grpc.errors import ErrorCode, FateGrpcError

CURRENT_DAG = """
schema_version: 2.1.0
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  tasks:
    reader_0:
      component_ref: reader
      parameters: {namespace: experiment, name: breast}
"""


def refusal(text: str) -> str:
    """The one reason a document is refused for."""
    with pytest.raises(FateGrpcError) as info:
        load_dag_document(text)
    assert info.value.code is ErrorCode.INVALID_DAG
    assert len(info.value.violations) == 1
    return info.value.violations[0].reason


def typed(value: Any) -> Any:
    """The value with every scalar tagged by its type, so that 1, 1.0 and True differ; nan equals nan."""
    if isinstance(value, dict):
        return sorted((repr(typed(k)), typed(v)) for k, v in value.items())
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else repr(value)]
    return [type(value).__name__, value]


# -- YAML 1.2 scalars -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1e-06", 1e-06),
        ("1.0e-06", 1e-06),
        ("1E5", 100000.0),
        ("-1.5e+3", -1500.0),
        (".5", 0.5),
        ("5.", 5.0),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("+.INF", math.inf),
        ("0o17", 15),
        ("0x1F", 31),
        ("017", 17),
        ("-42", -42),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("1_000", "1_000"),
        ("2024-01-31", "2024-01-31"),
        ("0b101", "0b101"),
        ("1:30", "1:30"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(written: str, read: Any) -> None:
    value = load_yaml12(f"value: {written}\n")["value"]

    assert typed(value) == typed(read)


def test_nan_is_a_float() -> None:
    value = load_yaml12("value: .nan\n")["value"]

    assert isinstance(value, float) and math.isnan(value)


def test_a_fate_parameter_written_as_1e_06_reaches_the_dag_as_a_float() -> None:
    text = CURRENT_DAG.replace("name: breast}", "name: breast, relative_error: 1e-06}")

    dag = load_dag_document(text)

    assert dag["dag"]["tasks"]["reader_0"]["parameters"]["relative_error"] == 1e-06


def test_non_string_keys_stay_as_written() -> None:
    value = load_yaml12("frac: {0: 0.5, 1: 0.8, 2.5: x, '-1': y, null: z}\n")["frac"]

    assert typed(value) == typed({0: 0.5, 1: 0.8, 2.5: "x", "-1": "y", None: "z"})


# -- what PyYAML writes (users' own scripts) --------------------------------------------------------


def _plain_tag(text: str, resolver: Any) -> str:
    return str(resolver.resolve(ScalarNode, text, (True, False)))


def written_plain_by_pyyaml_but_not_a_string_in_yaml_1_2(text: str) -> bool:
    """PyYAML quotes a string only if YAML 1.1 would read it as something else."""
    yaml_1_1 = _plain_tag(text, yaml.resolver.Resolver())
    yaml_1_2 = _plain_tag(text, Yaml12Loader(""))
    return yaml_1_1.endswith(":str") and not yaml_1_2.endswith(":str")


strings = st.text(max_size=20).filter(lambda s: not written_plain_by_pyyaml_but_not_a_string_in_yaml_1_2(s))
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-06, -0.0, 0.0, 1.0, 1e300])
    | strings
)
keys = st.none() | st.integers(min_value=-5, max_value=5) | strings
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=documents)
def test_what_pyyaml_writes_reads_back_as_the_same_values_and_types(value: Any) -> None:
    for dump in (yaml.safe_dump, yaml.dump):
        text = dump({"parameters": value}, default_flow_style=False)

        assert typed(load_yaml12(text)["parameters"]) == typed(value), text


@pytest.mark.parametrize("text", ["1e-06", "1e5", "1.5e3", "0o17", "09", "-08"])
def test_strings_pyyaml_leaves_unquoted_are_read_as_yaml_1_2_numbers(text: str) -> None:
    # PyYAML quotes by YAML 1.1 rules, so these strings come out plain and YAML 1.2 reads numbers;
    # FATE's own client writes with ruamel.yaml, which quotes them.
    written = yaml.safe_dump({"value": text})

    assert written == f"value: {text}\n"
    assert not isinstance(load_yaml12(written)["value"], str)


@pytest.mark.parametrize(
    "text", ["yes", "no", "on", "off", "True", "null", "~", "012", "1_000", "0x1F", "1.5"]
)
def test_strings_pyyaml_quotes_stay_strings(text: str) -> None:
    assert load_yaml12(yaml.safe_dump({"value": text}))["value"] == text


def test_shared_objects_written_as_anchors_and_aliases_are_read() -> None:
    shared = {"method": "sgd", "optimizer_params": {"lr": 0.01}}
    text = yaml.dump({"a": shared, "b": shared, "c": [shared, shared]}, default_flow_style=False)
    assert "&id001" in text

    assert load_yaml12(text) == {"a": shared, "b": shared, "c": [shared, shared]}


# -- bounds -----------------------------------------------------------------------------------------


def test_a_billion_laughs_document_is_refused_naming_the_limit() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]

    reason = refusal("\n".join(lines) + "\n")

    assert f"more than {MAX_NODES} values" in reason
    assert "line 6" in reason


def test_a_recursive_alias_is_refused() -> None:
    assert "recursive" in refusal("dag: &a [*a]\n")


@pytest.mark.parametrize("depth", [150, 900, 100_000])
def test_deep_yaml_is_refused_with_the_depth_limit(depth: int) -> None:
    reason = refusal("dag: " + "[" * depth + "]" * depth + "\n")

    assert f"nested deeper than {MAX_DEPTH} levels" in reason
    assert "line 1, column" in reason


@pytest.mark.parametrize("depth", [150, 900, 100_000])
def test_deep_json_is_refused_with_the_depth_limit(depth: int) -> None:
    reason = refusal('{"dag": ' + "[" * depth + "]" * depth + "}")

    assert f"nested deeper than {MAX_DEPTH} levels" in reason


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1  # the top mapping is the first level
    document = load_dag_document("dag: " + "[" * depth + "]" * depth + "\n")

    assert isinstance(document["dag"], list)


def test_a_flat_document_with_too_many_values_is_refused() -> None:
    assert "values" in refusal(json.dumps({"dag": list(range(MAX_NODES + 1))}))


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "dag: !!python/object/apply:os.system [echo]\n",
        "dag: !!python/name:os.system\n",
        "dag: !!set {a}\n",
        "dag: !!binary aGVsbG8=\n",
        "dag: !!timestamp 2024-01-01\n",
    ],
)
def test_tags_other_than_plain_data_are_refused(text: str) -> None:
    assert "line 1, column 6" in refusal(text)


def test_a_duplicate_key_is_refused_with_its_line() -> None:
    reason = refusal("schema_version: 2.1.0\ndag: {}\nschema_version: 2.2.0\n")

    assert "duplicate key 'schema_version'" in reason
    assert "line 3, column 1" in reason


def test_a_duplicate_key_in_json_is_refused() -> None:
    assert "duplicate key 'dag'" in refusal('{"dag": 1, "dag": 2}')


def test_a_syntax_error_names_line_and_column() -> None:
    assert "line 4, column 10" in refusal("schema_version: 2.1.0\ndag:\n  tasks: [a, b\n  parties: x\n")


def test_an_integer_too_long_to_read_is_refused() -> None:
    assert "integer" in refusal("dag: " + "7" * 5000 + "\n")


# -- formats ----------------------------------------------------------------------------------------


def test_kind_defaults_to_fate() -> None:
    assert parse_dag(CURRENT_DAG, builtin_catalog()).kind == "fate"


def test_flow_test_toy_dag_with_an_alpha_version_string_is_accepted() -> None:
    toy = {
        "dag": {
            "parties": [{"party_id": ["9999"], "role": "guest"}, {"party_id": ["10000"], "role": "host"}],
            "stage": "default",
            "tasks": {
                "toy_example_0": {
                    "component_ref": "toy_example",
                    "parameters": {"data_num": 1024, "partition": 4},
                }
            },
        },
        "schema_version": "2.0.0.alpha",
    }

    assert set(parse_dag(json.dumps(toy), builtin_catalog()).tasks) == {"toy_example_0"}


ALPHA = """
schema_version: 2.0.0.alpha
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  scheduler_party_id: '9999'
  tasks:
    reader_0: {component_ref: reader}
    psi_0:
      component_ref: psi
      inputs:
        artifacts:
          input_data:
            task_output_artifact:
              {producer_task: reader_0, output_artifact_key: output_data, roles: [guest, host]}
        parameters: {}
"""
BETA = """
schema_version: 2.0.0.beta
dag:
  parties:
  - {role: guest, party_id: ['9999']}
  - {role: host, party_id: ['10000']}
  party_tasks:
    guest_9999:
      parties: [{role: guest, party_id: ['9999']}]
      tasks:
        psi_0:
          inputs:
            data:
              input_data:
                data_warehouse: {namespace: experiment, name: breast_hetero_guest, roles: [guest]}
  tasks:
    psi_0:
      component_ref: psi
      inputs:
        data:
          input_data:
            task_output_artifact:
            - {producer_task: reader_0, output_artifact_key: output_data, roles: [guest]}
"""


@pytest.mark.parametrize(
    ("text", "name", "fields"),
    [
        (
            ALPHA,
            "2.0.0-alpha",
            ["inputs.artifacts", "dag.scheduler_party_id", "roles: [guest]", "inputs.parameters"],
        ),
        (BETA, "2.0.0-beta", ["roles: [guest] -> parties", "party_tasks.<site>.tasks.<t>.inputs"]),
        (BETA.replace("2.0.0.beta", "2.1.0"), "2.0.0-beta", ["roles"]),
    ],
)
def test_older_fate_formats_get_one_message_naming_the_format_and_the_changes(
    text: str, name: str, fields: list[str]
) -> None:
    with pytest.raises(FateGrpcError) as info:
        parse_dag(text, builtin_catalog())

    [violation] = info.value.violations
    assert name in violation.reason
    for field in fields:
        assert field in violation.reason
    assert "unknown key" not in violation.reason


def test_keys_python_cannot_tell_apart_are_refused_as_duplicates() -> None:
    # true and 1 are one key of a Python dict; keeping one of them silently would lose a value.
    assert "duplicate key" in refusal("dag: {1: a, true: b}\n")
