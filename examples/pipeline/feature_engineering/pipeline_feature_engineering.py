"""reader -> psi -> feature_scale -> hetero_feature_binning -> hetero_feature_selection (IV) ->
coordinated_lr -> evaluation on breast, then predict with the deployed chain.

Written against fate_client 2.2's pipeline API, as FATE's own examples are."""

from __future__ import annotations

import sys
from pathlib import Path

from fate_client.pipeline import FateFlowPipeline
from fate_client.pipeline.components.fate import (
    PSI,
    CoordinatedLR,
    Evaluation,
    FeatureScale,
    HeteroFeatureBinning,
    HeteroFeatureSelection,
    Reader,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import frame_summary, parties, report


def main() -> None:
    args = parties("feature engineering then coordinated_lr on breast, then predict")
    guest, host, arbiter = args.guest, args.host, args.arbiter

    pipeline = FateFlowPipeline().set_parties(guest=guest, host=host, arbiter=arbiter)
    reader_0 = Reader("reader_0", runtime_parties=dict(guest=guest, host=host))
    reader_0.guest.task_parameters(namespace=args.namespace, name="breast_hetero_guest")
    reader_0.hosts[0].task_parameters(namespace=args.namespace, name="breast_hetero_host")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    scale_0 = FeatureScale("scale_0", method="standard", train_data=psi_0.outputs["output_data"])
    binning_0 = HeteroFeatureBinning(
        "binning_0",
        method="quantile",
        n_bins=10,
        transform_method="bin_idx",
        he_param={"kind": "paillier", "key_length": 1024},
        train_data=scale_0.outputs["train_output_data"],
    )
    selection_0 = HeteroFeatureSelection(
        "selection_0",
        method=["iv"],
        iv_param={"metrics": "iv", "filter_type": "threshold", "threshold": 0.1, "host_threshold": 0.1},
        train_data=scale_0.outputs["train_output_data"],
        input_models=[binning_0.outputs["output_model"]],
    )
    lr_0 = CoordinatedLR(
        "lr_0",
        epochs=5,
        batch_size=None,
        optimizer={"method": "sgd", "optimizer_params": {"lr": 0.15}, "alpha": 0.01, "penalty": "l2"},
        init_param={"fit_intercept": True, "method": "zeros"},
        train_data=selection_0.outputs["train_output_data"],
    )
    evaluation_0 = Evaluation(
        "evaluation_0",
        runtime_parties=dict(guest=guest),
        default_eval_setting="binary",
        input_datas=lr_0.outputs["train_output_data"],
    )
    pipeline.add_tasks([reader_0, psi_0, scale_0, binning_0, selection_0, lr_0, evaluation_0])
    pipeline.compile()
    pipeline.fit()

    evaluation = pipeline.get_task_info("evaluation_0").get_output_metric()
    trained = pipeline.get_task_info("lr_0").get_output_data()
    selection_model = pipeline.get_task_info("selection_0").get_output_model()
    binning_metrics = pipeline.get_task_info("binning_0").get_output_metric()

    pipeline.deploy([psi_0, scale_0, selection_0, lr_0])
    predict_pipeline = FateFlowPipeline()
    deployed = pipeline.get_deployed_pipeline()
    reader_1 = Reader("reader_1", runtime_parties=dict(guest=guest, host=host))
    reader_1.guest.task_parameters(namespace=args.namespace, name="breast_hetero_guest")
    reader_1.hosts[0].task_parameters(namespace=args.namespace, name="breast_hetero_host")
    deployed.psi_0.input_data = reader_1.outputs["output_data"]
    predict_pipeline.add_tasks([reader_1, deployed])
    predict_pipeline.compile()
    predict_pipeline.predict()
    predicted = predict_pipeline.get_task_info("lr_0").get_output_data()

    report(
        {
            "train_job_id": pipeline.model_info.job_id,
            "predict_job_id": predict_pipeline.model_info.job_id,
            "evaluation": evaluation,
            "selection_model_keys": sorted(selection_model),
            "binning_metric_names": sorted({m["name"] for m in binning_metrics}),
            "train_output_data": frame_summary(trained["train_output_data"]),
            "predict_output_data": frame_summary(predicted["test_output_data"]),
        }
    )


if __name__ == "__main__":
    main()
