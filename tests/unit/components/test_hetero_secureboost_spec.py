"""hetero_secureboost's declaration: FATE 2.2's roles, stages, artifacts and parameter defaults, and DAG
checks at submit that name the parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fate_grpc.components import hetero_secureboost
from fate_grpc.components.base import get_component
from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import parse_dag
from fate_grpc.errors import FateGrpcError

DAG = Path(__file__).resolve().parents[3] / "examples" / "dags" / "hetero_secureboost.yaml"
FATE_DEFAULTS = {
    "num_trees": 3, "learning_rate": 0.3, "max_depth": 3, "complete_secure": 0, "max_bin": 32,
    "objective": "binary:bce", "num_class": 2, "goss": False, "goss_start_iter": 5, "top_rate": 0.2,
    "other_rate": 0.1, "l1": 0, "l2": 0.1, "min_impurity_split": 1e-2, "min_sample_split": 2,
    "min_leaf_node": 1, "min_child_weight": 1, "gh_pack": True, "split_info_pack": True, "hist_sub": True,
    "he_param": {"kind": "paillier", "key_length": 1024},
    "cv_param": {"n_splits": 5, "shuffle": False, "random_state": None}, "output_cv_data": True,
}  # fmt: skip


def test_registered_with_fates_contract() -> None:
    spec = builtin_catalog()["hetero_secureboost"]

    assert get_component("hetero_secureboost") is hetero_secureboost.run
    assert spec.roles == {"guest", "host"}
    assert {p.name: p.default for p in spec.parameters.values()} == FATE_DEFAULTS
    stages = {
        name: ([a.key for a in s.inputs], [a.key for a in s.outputs]) for name, s in spec.stages.items()
    }
    assert stages == {
        "train": (["train_data", "validate_data", "warm_start_model"], ["train_output_data", "output_model"]),
        "predict": (["test_data", "input_model"], ["test_output_data"]),
        "cross_validation": (["cv_data"], ["cv_output_datas"]),
    }


def test_the_docs_dag_is_accepted() -> None:
    dag = parse_dag(DAG.read_text(), builtin_catalog())

    assert list(dag.tasks) == ["reader_0", "psi_0", "sbt_0", "evaluation_0"]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"num_trees": 0}, "num_trees"),
        ({"objective": "binary:logistic"}, "objective"),
        ({"he_param": {"kind": "mock"}}, "he_param"),
        ({"top_rate": 1}, "top_rate"),
    ],
)
def test_bad_parameters_are_refused_at_submit_with_their_path(
    parameters: dict[str, object], field: str
) -> None:
    document = yaml.safe_load(DAG.read_text())
    document["dag"]["tasks"]["sbt_0"]["parameters"] = parameters

    with pytest.raises(FateGrpcError) as caught:
        parse_dag(yaml.safe_dump(document), builtin_catalog())

    assert f"dag.tasks.sbt_0.parameters.{field}" in [v.field for v in caught.value.violations]
