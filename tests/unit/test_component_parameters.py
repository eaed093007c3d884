"""Every implemented component's parameters against FATE 2.2's declarations: FATE's value forms are
accepted (and normalised as FATE does), typical wrong values are refused at submit with the field path
``dag.tasks.<task>.parameters.<name>`` and the reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import parse_dag
from fate_grpc.errors import FateGrpcError

CATALOG = builtin_catalog()
IMPLEMENTED = (
    "reader",
    "psi",
    "feature_scale",
    "hetero_feature_binning",
    "hetero_feature_selection",
    "evaluation",
    "data_split",
    "sample",
    "union",
    "statistics",
)

# FATE 2.2's parameter names and defaults (python/fate/components/components/*.py).
FATE_DEFAULTS: dict[str, dict[str, Any]] = {
    "reader": {"name": None, "namespace": None},
    "psi": {"protocol": "ecdh_psi", "curve_type": "curve25519"},
    "feature_scale": {
        "method": "standard",
        "feature_range": [0, 1],
        "scale_col": None,
        "scale_idx": None,
        "strict_range": True,
        "use_anonymous": False,
    },
    "hetero_feature_binning": {
        "method": "quantile",
        "n_bins": 10,
        "split_pt_dict": None,
        "bin_col": None,
        "bin_idx": None,
        "category_col": None,
        "category_idx": None,
        "use_anonymous": False,
        "transform_method": None,
        "skip_metrics": False,
        "local_only": False,
        "relative_error": 1e-6,
        "adjustment_factor": 0.5,
        "he_param": {"kind": "paillier", "key_length": 1024},
    },
    "hetero_feature_selection": {
        "method": ["manual"],
        "select_col": None,
        "keep_one": True,
        "use_anonymous": False,
        "iv_param": {
            "metrics": ["iv"],
            "filter_type": ["threshold"],
            "threshold": [1.0],
            "take_high": [True],
            "select_federated": True,
        },
        "statistic_param": {
            "metrics": ["mean"],
            "filter_type": ["threshold"],
            "threshold": [1.0],
            "take_high": [True],
        },
        "manual_param": {"keep_col": [], "filter_out_col": []},
    },
    "evaluation": {
        "default_eval_setting": "binary",
        "metrics": None,
        "predict_column_name": None,
        "label_column_name": None,
    },
    "data_split": {
        "train_size": None,
        "validate_size": None,
        "test_size": None,
        "stratified": False,
        "random_state": None,
        "hetero_sync": True,
    },
    "sample": {"replace": False, "frac": None, "n": None, "random_state": None, "hetero_sync": True},
    "union": {},
    "statistics": {
        "metrics": ["mean", "std", "min", "max"],
        "ddof": 1,
        "bias": True,
        "relative_error": 1e-3,
        "skip_col": None,
        "use_anonymous": False,
    },
}

# (component, parameter, value as a FATE DAG gives it, the value the component reads)
ACCEPTED: list[tuple[str, str, Any, Any]] = [
    ("reader", "name", "breast_hetero_guest", "breast_hetero_guest"),
    ("psi", "protocol", "ecdh_psi", "ecdh_psi"),
    ("psi", "curve_type", "curve25519", "curve25519"),
    ("feature_scale", "method", "MIN_MAX", "min_max"),
    ("feature_scale", "method", "Standard", "standard"),
    ("feature_scale", "feature_range", [0, 1], [0.0, 1.0]),
    ("feature_scale", "feature_range", {"x0": [-1, 1]}, {"x0": [-1.0, 1.0]}),
    ("feature_scale", "scale_col", ["x0", "x1"], ["x0", "x1"]),
    ("feature_scale", "scale_idx", [0, 3], [0, 3]),
    ("feature_scale", "scale_idx", [2.0], [2]),
    ("feature_scale", "strict_range", False, False),
    ("hetero_feature_binning", "method", "BUCKET", "bucket"),
    ("hetero_feature_binning", "method", "manual", "manual"),
    ("hetero_feature_binning", "n_bins", 5, 5),
    ("hetero_feature_binning", "n_bins", 5.0, 5),
    ("hetero_feature_binning", "split_pt_dict", {"x0": [0, 0.5, 1]}, {"x0": [0.0, 0.5, 1.0]}),
    ("hetero_feature_binning", "bin_idx", [0, 1, 2], [0, 1, 2]),
    ("hetero_feature_binning", "category_col", ["x3"], ["x3"]),
    ("hetero_feature_binning", "transform_method", "WOE", "woe"),
    ("hetero_feature_binning", "transform_method", "bin_idx", "bin_idx"),
    ("hetero_feature_binning", "relative_error", 1e-06, 1e-06),
    ("hetero_feature_binning", "relative_error", 1, 1.0),
    ("hetero_feature_binning", "adjustment_factor", 1, 1.0),
    ("hetero_feature_binning", "he_param", {"kind": "Paillier"}, {"kind": "paillier", "key_length": 1024}),
    (
        "hetero_feature_binning",
        "he_param",
        {"kind": "paillier", "key_length": 2048},
        {"kind": "paillier", "key_length": 2048},
    ),
    ("hetero_feature_selection", "method", ["IV", "manual"], ["iv", "manual"]),
    ("hetero_feature_selection", "method", "statistics", ["statistics"]),
    (
        "hetero_feature_selection",
        "iv_param",
        {"metrics": "iv", "filter_type": "TOP_K", "threshold": 5, "take_high": True},
        {
            "metrics": ["iv"],
            "filter_type": ["top_k"],
            "threshold": [5],
            "take_high": [True],
            "select_federated": True,
        },
    ),
    (
        "hetero_feature_selection",
        "iv_param",
        {"threshold": 0.1, "host_threshold": 1, "host_take_high": False},
        {
            "metrics": ["iv"],
            "filter_type": ["threshold"],
            "threshold": [0.1],
            "take_high": [True],
            "host_threshold": [1.0],  # 1 is a fraction first, as FATE parses it
            "host_take_high": [False],
            "select_federated": True,
        },
    ),
    (
        "hetero_feature_selection",
        "statistic_param",
        {"metrics": ["mean", "75%"], "threshold": [0.5, 0.1]},
        {
            "metrics": ["mean", "75%"],
            "filter_type": ["threshold"],
            "threshold": [0.5, 0.1],
            "take_high": [True],
        },
    ),
    (
        "hetero_feature_selection",
        "manual_param",
        {"filter_out_col": ["x1"]},
        {"keep_col": [], "filter_out_col": ["x1"]},
    ),
    ("evaluation", "default_eval_setting", "MULTI", "multi"),
    ("evaluation", "metrics", ["auc", "ks"], ["auc", "ks"]),
    ("evaluation", "metrics", ["AUC", "mse"], ["auc", "mse"]),
    ("evaluation", "label_column_name", "y", "y"),
    ("data_split", "train_size", 200, 200),
    ("data_split", "train_size", 200.0, 200),
    ("data_split", "train_size", 0.8, 0.8),
    ("data_split", "train_size", 1, 1.0),  # FATE: a number in [0, 1] is a fraction
    ("data_split", "test_size", 0, 0.0),
    ("data_split", "random_state", 42, 42),
    ("data_split", "stratified", True, True),
    ("sample", "frac", 0.5, 0.5),
    ("sample", "frac", 1, 1.0),
    ("sample", "frac", {0: 0.5, 1: 0.8}, {0: 0.5, 1: 0.8}),
    ("sample", "frac", {"0": 0.5, "yes": 2}, {"0": 0.5, "yes": 2.0}),
    ("sample", "frac", {1.0: 0.5}, {1: 0.5}),
    ("sample", "n", 100, 100),
    ("sample", "replace", True, True),
    ("statistics", "metrics", ["mean", "MAX", "25%", "describe"], ["mean", "max", "25%", "describe"]),
    ("statistics", "metrics", "median", ["median"]),
    ("statistics", "ddof", 0, 0),
    ("statistics", "relative_error", 0.01, 0.01),
    ("statistics", "skip_col", ["x0"], ["x0"]),
]

# (component, parameter, value, field path suffix after the parameter, words of the reason)
REFUSED: list[tuple[str, str, Any, str, tuple[str, ...]]] = [
    ("reader", "name", 7, "", ("must be a string", "integer 7")),
    ("psi", "protocol", "rsa_psi", "", ("'rsa_psi' is not implemented",)),
    ("psi", "curve_type", "secp256k1", "", ("only 'curve25519'",)),
    ("feature_scale", "method", "max_abs", "", ("must be one of standard, min_max", "'max_abs'")),
    ("feature_scale", "feature_range", "0,1", "", ("[min, max] or a mapping",)),
    ("feature_scale", "scale_idx", [-1], "[0]", ("an integer >= 0",)),
    ("feature_scale", "scale_col", "x0", "", ("a list of column names",)),
    ("feature_scale", "strict_range", 1, "", ("true or false", "integer 1")),
    ("hetero_feature_binning", "n_bins", 1, "", ("an integer > 1",)),
    ("hetero_feature_binning", "n_bins", True, "", ("an integer > 1", "boolean True")),
    ("hetero_feature_binning", "n_bins", 2.5, "", ("an integer > 1",)),
    ("hetero_feature_binning", "n_bins", "10", "", ("an integer > 1", "string '10'")),
    ("hetero_feature_binning", "method", "optimal", "", ("quantile, bucket, manual",)),
    ("hetero_feature_binning", "relative_error", 0, "", ("> 0 and <= 1",)),
    ("hetero_feature_binning", "relative_error", 1.5, "", ("> 0 and <= 1",)),
    ("hetero_feature_binning", "adjustment_factor", 0, "", ("a number > 0",)),
    ("hetero_feature_binning", "split_pt_dict", {"x0": "0.5"}, "['x0']", ("a list of split points",)),
    ("hetero_feature_binning", "split_pt_dict", [0.5], "", ("a mapping {column: [split points]}",)),
    ("hetero_feature_binning", "bin_idx", [0, True], "[1]", ("an integer >= 0", "boolean")),
    ("hetero_feature_binning", "transform_method", "onehot", "", ("woe, bin_idx",)),
    ("hetero_feature_binning", "he_param", {"key_length": 1024}, ".kind", ("is required",)),
    ("hetero_feature_binning", "he_param", {"kind": "rsa"}, ".kind", ("paillier, ou, mock",)),
    ("hetero_feature_binning", "he_param", {"kind": "ou"}, "", ("'ou' is not available here",)),
    ("hetero_feature_binning", "he_param", {"kind": "paillier", "key_length": 512}, "", ("at least 1024",)),
    ("hetero_feature_selection", "method", ["iv", "binning"], "[1]", ("manual, iv, statistics",)),
    ("hetero_feature_selection", "iv_param", {"filter_type": "top_n"}, ".filter_type[0]", ("top_k",)),
    ("hetero_feature_selection", "iv_param", {"threshold": 1.5}, ".threshold[0]", ("a count >= 1",)),
    (
        "hetero_feature_selection",
        "iv_param",
        {"metrics": ["iv", "iv", "iv"], "threshold": [0.1, 0.2]},
        "",
        ("threshold must have 1 or 3 items",),
    ),
    ("hetero_feature_selection", "statistic_param", {"metrics": ["mode"]}, ".metrics[0]", ("a statistic",)),
    (
        "hetero_feature_selection",
        "manual_param",
        {"keep_col": ["x1"], "filter_out_col": ["x1"]},
        "",
        ("share ['x1']",),
    ),
    ("hetero_feature_selection", "keep_one", "yes", "", ("true or false",)),
    ("evaluation", "default_eval_setting", "ranking", "", ("binary, multi, regression",)),
    ("evaluation", "metrics", "auc", "", ("a list of metric names",)),
    ("evaluation", "metrics", ["auc", "nope"], "[1]", ("must be one of", "'nope'")),
    ("data_split", "train_size", -0.1, "", ("a fraction in [0, 1] or a row count",)),
    ("data_split", "train_size", 1.5, "", ("neither",)),
    ("data_split", "train_size", True, "", ("a fraction in [0, 1] or a row count", "boolean True")),
    ("data_split", "train_size", "0.8", "", ("a fraction in [0, 1] or a row count", "string")),
    ("data_split", "random_state", -1, "", ("an integer >= 0",)),
    ("data_split", "hetero_sync", "false", "", ("true or false",)),
    ("sample", "frac", 0, "", ("a rate > 0 or a mapping",)),
    ("sample", "frac", {0: -0.5}, "", ("a rate > 0 or a mapping",)),
    ("sample", "n", 0, "", ("an integer > 0",)),
    ("sample", "n", True, "", ("an integer > 0", "boolean True")),
    ("sample", "replace", "true", "", ("true or false",)),
    ("statistics", "metrics", ["mean", "150%"], "[1]", ("a percentile like '25%'",)),
    ("statistics", "ddof", -1, "", ("an integer >= 0",)),
    ("statistics", "relative_error", 0, "", ("> 0 and <= 1",)),
    ("statistics", "skip_col", [1], "[0]", ("must be a string",)),
]


def dag_with(component: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A two-party DAG of one task of `component` (inputs are not needed for parameter checks)."""
    return {
        "schema_version": "2.0.0",
        "dag": {
            "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
            "tasks": {"t_0": {"component_ref": component, "parameters": copy.deepcopy(parameters)}},
        },
    }


def violations(component: str, parameters: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_dag(dag_with(component, parameters), CATALOG)
    except FateGrpcError as error:
        return [(v.field, v.reason) for v in error.violations]
    return []


def test_every_implemented_component_declares_fates_parameters_and_defaults() -> None:
    for component in IMPLEMENTED:
        declared = CATALOG[component].parameters
        assert sorted(declared) == sorted(FATE_DEFAULTS[component]), component
        for name, default in FATE_DEFAULTS[component].items():
            assert declared[name].normalize(None) == default, (component, name)


@pytest.mark.parametrize(("component", "name", "value", "expected"), ACCEPTED)
def test_fates_value_forms_are_accepted_with_fates_meaning(
    component: str, name: str, value: Any, expected: Any
) -> None:
    param = CATALOG[component].parameters[name]
    normalized = param.normalize(value)
    assert normalized == expected
    assert type(normalized) is type(expected)
    if isinstance(expected, list) and expected:
        assert [type(v) for v in normalized] == [type(v) for v in expected]
    prefix = f"dag.tasks.t_0.parameters.{name}"
    problems = [
        p
        for p in violations(component, {name: value})
        if p[0] == prefix or p[0].startswith((prefix + ".", prefix + "["))
    ]
    assert problems == []


@pytest.mark.parametrize(("component", "name"), [(c, n) for c in IMPLEMENTED for n in FATE_DEFAULTS[c]])
def test_null_means_the_default(component: str, name: str) -> None:
    problems = [p for p in violations(component, {name: None}) if p[0].startswith("dag.tasks.t_0.parameters")]
    # reader's name and namespace are required: null leaves them unset, reported as required per party.
    assert all("required" in reason for _, reason in problems), problems


@pytest.mark.parametrize(("component", "name", "value", "where", "words"), REFUSED)
def test_wrong_values_are_refused_at_submit_with_the_field_path(
    component: str, name: str, value: Any, where: str, words: tuple[str, ...]
) -> None:
    field = f"dag.tasks.t_0.parameters.{name}{where}"
    found = violations(component, {name: value})
    at_field = [reason for path, reason in found if path == field]
    assert at_field, f"no violation at {field}; got {found}"
    assert any(all(w in reason for w in words) for reason in at_field), at_field


def test_every_implemented_component_refuses_something_for_every_parameter() -> None:
    refused = {(c, n) for c, n, *_ in REFUSED}
    for component in IMPLEMENTED:
        for name in FATE_DEFAULTS[component]:
            if (component, name) in refused:
                continue
            wrong = {"x": 1} if CATALOG[component].parameters[name].normalize(None) != {"x": 1} else 1
            problems = [
                f
                for f, _ in violations(component, {name: wrong})
                if f.startswith(f"dag.tasks.t_0.parameters.{name}")
            ]
            assert problems, (component, name, wrong)


def test_unknown_parameter_is_refused() -> None:
    found = violations("data_split", {"train_ratio": 0.8})
    assert any(f == "dag.tasks.t_0.parameters.train_ratio" and "unknown parameter" in r for f, r in found)
