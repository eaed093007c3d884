"""Writes the FATE-style DAGs of this folder with FATE's own pipeline API (fate_client 2.2.0).

Each DAG is what a FATE user's pipeline script dumps (``pipeline.get_dag()`` / ``pipeline.deploy()``),
following FATE's ``examples/pipeline`` scripts on the breast tables. It needs fate_client 2.2.0, which
this project does not depend on (``pip install fate_client==2.2.0`` in a separate environment); the
committed DAGs are its output, so nobody needs to run it.

    python examples/dags/fate/generate.py examples/dags/fate
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fate_client.pipeline import FateFlowPipeline
from fate_client.pipeline.components.fate import (
    PSI,
    DataSplit,
    Evaluation,
    FeatureScale,
    HeteroFeatureBinning,
    HeteroFeatureSelection,
    Reader,
    Sample,
    Statistics,
    Union,
)

GUEST, HOST = "9999", "10000"
MODEL_VERSION = "0"


def pipeline(model_id: str | None = None) -> Any:
    made = FateFlowPipeline().set_parties(guest=GUEST, host=HOST)
    if model_id:
        made.conf.set("model_id", model_id)
        made.conf.set("model_version", MODEL_VERSION)
    return made


def reader(name: str) -> Any:
    made = Reader(name)
    made.guest.task_parameters(namespace="experiment", name="breast_hetero_guest")
    made.hosts[0].task_parameters(namespace="experiment", name="breast_hetero_host")
    return made


def dump(made: Any, tasks: list[Any]) -> str:
    made.add_tasks(tasks)
    made.compile()
    return str(made.get_dag())


def psi_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    return dump(pipeline(), [reader_0, psi_0])


def data_split_dag() -> str:
    reader_0, reader_1 = reader("reader_0"), reader("reader_1")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    psi_1 = PSI("psi_1", input_data=reader_1.outputs["output_data"])
    # Fractions (a null test_size takes the rest), stratified; then row counts.
    data_split_0 = DataSplit(
        "data_split_0",
        train_size=0.6,
        validate_size=0.1,
        test_size=None,
        stratified=True,
        random_state=7,
        input_data=psi_0.outputs["output_data"],
    )
    data_split_1 = DataSplit(
        "data_split_1", train_size=200, test_size=50, random_state=7, input_data=psi_1.outputs["output_data"]
    )
    return dump(pipeline(), [reader_0, reader_1, psi_0, psi_1, data_split_0, data_split_1])


def sample_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    out = psi_0.outputs["output_data"]
    sample_0 = Sample(
        "sample_0", frac={0: 0.5}, replace=False, hetero_sync=True, random_state=1, input_data=out
    )
    sample_1 = Sample("sample_1", n=100, replace=False, hetero_sync=True, random_state=1, input_data=out)
    sample_2 = Sample("sample_2", frac={0: 0.5, 1: 1.5}, replace=True, random_state=1, input_data=out)
    sample_3 = Sample("sample_3", frac=0.25, random_state=1, input_data=out)
    return dump(pipeline(), [reader_0, psi_0, sample_0, sample_1, sample_2, sample_3])


def union_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    data_split_0 = DataSplit(
        "data_split_0",
        train_size=0.6,
        validate_size=0.1,
        random_state=3,
        input_data=psi_0.outputs["output_data"],
    )
    union_0 = Union(
        "union_0",
        input_datas=[data_split_0.outputs["train_output_data"], data_split_0.outputs["test_output_data"]],
    )
    return dump(pipeline(), [reader_0, psi_0, data_split_0, union_0])


def statistics_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    statistics_0 = Statistics(
        "statistics_0",
        input_data=psi_0.outputs["output_data"],
        metrics=["mean", "std", "0%", "25%", "median", "75%", "100%", "missing_ratio"],
    )
    return dump(pipeline(), [reader_0, psi_0, statistics_0])


def feature_scale_dag() -> str:
    reader_0, reader_1 = reader("reader_0"), reader("reader_1")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    psi_1 = PSI("psi_1", input_data=reader_1.outputs["output_data"])
    feature_scale_0 = FeatureScale(
        "feature_scale_0",
        method="MIN_MAX",
        feature_range={"x0": [-1, 1]},
        scale_col=["x0", "x1", "x3"],
        train_data=psi_0.outputs["output_data"],
    )
    feature_scale_1 = FeatureScale(
        "feature_scale_1",
        test_data=psi_1.outputs["output_data"],
        input_model=feature_scale_0.outputs["output_model"],
    )
    statistics_0 = Statistics(
        "statistics_0",
        metrics=["max", "min", "mean", "std"],
        input_data=feature_scale_1.outputs["test_output_data"],
    )
    tasks = [reader_0, reader_1, psi_0, psi_1, feature_scale_0, feature_scale_1, statistics_0]
    return dump(pipeline(), tasks)


def binning_quantile_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="quantile",
        n_bins=10,
        transform_method="bin_idx",
        train_data=psi_0.outputs["output_data"],
    )
    binning_0.hosts[0].task_parameters(bin_idx=[1])
    binning_0.guest.task_parameters(bin_col=["x0"])
    binning_1 = HeteroFeatureBinning(
        "binning_1",
        transform_method="bin_idx",
        method="quantile",
        train_data=binning_0.outputs["train_output_data"],
    )
    binning_1.hosts[0].task_parameters(category_idx=[1])
    binning_1.guest.task_parameters(category_col=["x0"])
    return dump(pipeline(), [reader_0, psi_0, binning_0, binning_1])


def binning_manual_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="manual",
        split_pt_dict={"x0": [0.1, 0.3, 0.5]},
        train_data=psi_0.outputs["output_data"],
        local_only=True,
    )
    binning_0.guest.task_parameters(bin_col=["x0"], transform_method="bin_idx")
    binning_1 = HeteroFeatureBinning(
        "binning_1",
        transform_method="bin_idx",
        method="quantile",
        train_data=binning_0.outputs["train_output_data"],
    )
    binning_1.guest.task_parameters(category_col=["x0"], transform_method="WOE")
    return dump(pipeline(), [reader_0, psi_0, binning_0, binning_1])


def binning_bucket_dag() -> str:
    reader_0, reader_1 = reader("reader_0"), reader("reader_1")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    psi_1 = PSI("psi_1", input_data=reader_1.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="bucket",
        n_bins=10,
        transform_method="bin_idx",
        skip_metrics=True,
        train_data=psi_0.outputs["output_data"],
    )
    binning_1 = HeteroFeatureBinning(
        "binning_1",
        transform_method="bin_idx",
        input_model=binning_0.outputs["output_model"],
        test_data=psi_1.outputs["output_data"],
    )
    return dump(pipeline(), [reader_0, reader_1, psi_0, psi_1, binning_0, binning_1])


def binning_train_and_predict_dags() -> tuple[str, str]:
    train = pipeline(model_id="fate_dags_binning")
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="quantile",
        n_bins=5,
        relative_error=1e-06,
        transform_method="woe",
        he_param={"kind": "paillier", "key_length": 1024},
        train_data=psi_0.outputs["output_data"],
    )
    binning_0.hosts[0].task_parameters(transform_method="bin_idx", bin_idx=[0, 1, 2, 3])
    train_dag = dump(train, [reader_0, psi_0, binning_0])
    train.model_info = SimpleNamespace(model_id="fate_dags_binning", model_version=MODEL_VERSION)
    train.deploy([psi_0, binning_0])
    deployed = train.get_deployed_pipeline()
    reader_1 = reader("reader_1")
    deployed.psi_0.input_data = reader_1.outputs["output_data"]
    predict = FateFlowPipeline().set_parties(guest=GUEST, host=HOST)
    predict.add_tasks([reader_1, deployed])
    predict.compile()
    return train_dag, str(predict.get_dag())


def selection_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="quantile",
        n_bins=10,
        transform_method="bin_idx",
        train_data=psi_0.outputs["output_data"],
    )
    statistics_0 = Statistics("statistics_0", input_data=psi_0.outputs["output_data"])
    selection_0 = HeteroFeatureSelection(
        "selection_0",
        method=["iv", "statistics", "manual"],
        train_data=psi_0.outputs["output_data"],
        input_models=[binning_0.outputs["output_model"], statistics_0.outputs["output_model"]],
        iv_param={"metrics": "iv", "filter_type": "top_k", "threshold": 6, "select_federated": True},
        statistic_param={
            "metrics": ["max", "mean"],
            "filter_type": "top_k",
            "threshold": 5,
            "take_high": False,
        },
        manual_param={"keep_col": ["x0", "x1"]},
    )
    selection_1 = HeteroFeatureSelection(
        "selection_1", method=["manual"], train_data=psi_0.outputs["output_data"]
    )
    selection_1.guest.task_parameters(manual_param={"keep_col": ["x0", "x1"]})
    selection_1.hosts[0].task_parameters(manual_param={"filter_out_col": ["x0", "x1"]})
    return dump(pipeline(), [reader_0, psi_0, binning_0, statistics_0, selection_0, selection_1])


def evaluation_dag() -> str:
    reader_0 = reader("reader_0")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    # No model here: the guest's feature x0 serves as the score to evaluate against its label y.
    evaluation_0 = Evaluation(
        "evaluation_0",
        runtime_parties={"guest": GUEST},
        default_eval_setting="BINARY",
        metrics=["auc", "ks"],
        predict_column_name="x0",
        label_column_name="y",
        input_datas=[psi_0.outputs["output_data"]],
    )
    return dump(pipeline(), [reader_0, psi_0, evaluation_0])


def main(folder: Path) -> None:
    train, predict = binning_train_and_predict_dags()
    dags = {
        "psi": psi_dag(),
        "data_split": data_split_dag(),
        "sample": sample_dag(),
        "union": union_dag(),
        "statistics": statistics_dag(),
        "feature_scale": feature_scale_dag(),
        "binning_quantile": binning_quantile_dag(),
        "binning_manual": binning_manual_dag(),
        "binning_bucket": binning_bucket_dag(),
        "binning_train": train,
        "binning_predict": predict,
        "selection": selection_dag(),
        "evaluation": evaluation_dag(),
    }
    for name, text in dags.items():
        (folder / f"{name}.yaml").write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
