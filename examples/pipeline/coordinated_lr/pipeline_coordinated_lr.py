"""reader -> psi -> coordinated_lr -> evaluation on breast, then predict with the deployed psi and lr.

Written against fate_client 2.2's pipeline API, as FATE's own examples are."""

from __future__ import annotations

import sys
from pathlib import Path

from fate_client.pipeline import FateFlowPipeline
from fate_client.pipeline.components.fate import PSI, CoordinatedLR, Evaluation, Reader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import frame_summary, parties, report


def main() -> None:
    args = parties("coordinated_lr on breast, then predict")
    guest, host, arbiter = args.guest, args.host, args.arbiter

    pipeline = FateFlowPipeline().set_parties(guest=guest, host=host, arbiter=arbiter)
    reader_0 = Reader("reader_0", runtime_parties=dict(guest=guest, host=host))
    reader_0.guest.task_parameters(namespace=args.namespace, name="breast_hetero_guest")
    reader_0.hosts[0].task_parameters(namespace=args.namespace, name="breast_hetero_host")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    lr_0 = CoordinatedLR(
        "lr_0",
        epochs=5,
        batch_size=None,
        optimizer={"method": "sgd", "optimizer_params": {"lr": 0.15}, "alpha": 0.01, "penalty": "l2"},
        init_param={"fit_intercept": True, "method": "zeros"},
        train_data=psi_0.outputs["output_data"],
    )
    evaluation_0 = Evaluation(
        "evaluation_0",
        runtime_parties=dict(guest=guest),
        default_eval_setting="binary",
        input_datas=lr_0.outputs["train_output_data"],
    )
    pipeline.add_tasks([reader_0, psi_0, lr_0, evaluation_0])
    pipeline.compile()
    pipeline.fit()

    lr_metrics = pipeline.get_task_info("lr_0").get_output_metric()
    lr_data = pipeline.get_task_info("lr_0").get_output_data()
    evaluation = pipeline.get_task_info("evaluation_0").get_output_metric()
    lr_model = pipeline.get_task_info("lr_0").get_output_model()

    pipeline.deploy([psi_0, lr_0])
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
            "lr_metric_names": sorted({m["name"] for m in lr_metrics}),
            "evaluation": evaluation,
            "lr_model_keys": sorted(lr_model),
            "train_output_data": frame_summary(lr_data["train_output_data"]),
            "predict_output_data": frame_summary(predicted["test_output_data"]),
        }
    )


if __name__ == "__main__":
    main()
