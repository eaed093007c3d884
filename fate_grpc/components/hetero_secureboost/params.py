"""hetero_secureboost's parameters: FATE 2.2's names, value forms and defaults, and the training settings
they make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fate_grpc.components.context import ComponentError
from fate_grpc.crypto import paillier
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ParamSpec
from fate_grpc.ml.secureboost.booster import BoostParams
from fate_grpc.ml.secureboost.objectives import MULTI_CE, OBJECTIVES
from fate_grpc.ml.secureboost.splitter import SplitParams

DEFAULT_HE = {"kind": "paillier", "key_length": 1024}
DEFAULT_CV = {"n_splits": 5, "shuffle": False, "random_state": None}


def _he_rule(value: dict[str, Any]) -> str | None:
    # FATE also offers "mock" (no encryption), which its default safety config refuses, as here. FATE's
    # safety config sets the minimum key size.
    if value["kind"] not in ("paillier", "ou"):
        return f"kind {value['kind']!r} is not available here; use paillier or ou"
    if value["key_length"] < paillier.MIN_KEY_BITS:
        return f"key_length must be at least {paillier.MIN_KEY_BITS}, got {value['key_length']}"
    return None


HE_PARAM = checks.refine(
    checks.record(
        {"kind": checks.choice("paillier", "ou", "mock"), "key_length": checks.integer()},
        required=("kind",),
        defaults={"key_length": 1024},
    ),
    _he_rule,
)

# FATE's CVParam: n_splits (required, > 1), shuffle (false), random_state (null).
CV_PARAM = checks.record(
    {"n_splits": checks.integer(gt=1), "shuffle": checks.boolean(), "random_state": checks.integer(ge=0)},
    required=("n_splits",),
    defaults={"shuffle": False, "random_state": None},
)


def _param(name: str, default: Any, check: checks.Check) -> tuple[str, ParamSpec]:
    return name, ParamSpec(name, default=default, check=check)


TRAIN_PARAMETERS: dict[str, ParamSpec] = dict(
    [
        _param("num_trees", 3, checks.integer(gt=0)),
        _param("learning_rate", 0.3, checks.number(gt=0)),
        _param("max_depth", 3, checks.integer(gt=0)),
        _param("complete_secure", 0, checks.integer(ge=0)),
        _param("max_bin", 32, checks.integer(gt=0)),
        _param("objective", "binary:bce", checks.choice(*OBJECTIVES)),
        _param("num_class", 2, checks.integer(gt=0)),
        _param("goss", False, checks.boolean()),
        _param("goss_start_iter", 5, checks.integer(ge=0)),
        _param("top_rate", 0.2, checks.number(gt=0, lt=1)),
        _param("other_rate", 0.1, checks.number(gt=0, lt=1)),
        _param("l1", 0, checks.number(ge=0)),
        _param("l2", 0.1, checks.number(ge=0)),
        _param("min_impurity_split", 1e-2, checks.number(gt=0)),
        _param("min_sample_split", 2, checks.integer(gt=0)),
        _param("min_leaf_node", 1, checks.integer(gt=0)),
        _param("min_child_weight", 1, checks.number(gt=0)),
        _param("gh_pack", True, checks.boolean()),
        _param("split_info_pack", True, checks.boolean()),
        _param("hist_sub", True, checks.boolean()),
        ("he_param", ParamSpec("he_param", default=dict(DEFAULT_HE), check=HE_PARAM)),
        ("cv_param", ParamSpec("cv_param", default=dict(DEFAULT_CV), check=CV_PARAM)),
        _param("output_cv_data", True, checks.boolean()),
    ]
)


def boost_params(params: Mapping[str, Any]) -> BoostParams:
    """The training settings from checked parameters.

    Raises:
        ComponentError: A combination FATE refuses (named by parameter).
    """
    if params["objective"] == MULTI_CE and params["num_class"] < 3:
        raise ComponentError(
            "hetero_secureboost: parameter num_class must be at least 3 for multi:ce,"
            f" got {params['num_class']}"
        )
    if params["goss"] and params["top_rate"] + params["other_rate"] > 1:
        raise ComponentError("hetero_secureboost: parameters top_rate + other_rate must not exceed 1")
    return BoostParams(
        num_trees=params["num_trees"],
        learning_rate=params["learning_rate"],
        max_depth=params["max_depth"],
        objective=params["objective"],
        num_class=params["num_class"],
        split=SplitParams(
            l1=params["l1"],
            l2=params["l2"],
            min_impurity_split=params["min_impurity_split"],
            min_sample_split=params["min_sample_split"],
            min_leaf_node=params["min_leaf_node"],
            min_child_weight=params["min_child_weight"],
        ),
        goss=params["goss"],
        goss_start_iter=params["goss_start_iter"],
        top_rate=params["top_rate"],
        other_rate=params["other_rate"],
        hist_sub=params["hist_sub"],
        complete_secure=params["complete_secure"],
    )
