"""reader -> psi -> hetero_secureboost -> evaluation on breast, then predict with the deployed model.

Written against fate_client 2.2's pipeline API, as FATE's own examples are."""

from __future__ import annotations

import sys
from pathlib import Path

from fate_client.pipeline import FateFlowPipeline
from fate_client.pipeline.components.fate import PSI, Evaluation, HeteroSecureBoost, Reader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import frame_summary, parties, report


def main() -> None:
    args = parties("hetero_secureboost on breast, then predict", arbiter=False)
    guest, host = args.guest, args.host

    pipeline = FateFlowPipeline().set_parties(guest=guest, host=host)
    reader_0 = Reader("reader_0")
    reader_0.guest.task_parameters(namespace=args.namespace, name="breast_hetero_guest")
    reader_0.hosts[0].task_parameters(namespace=args.namespace, name="breast_hetero_host")
    psi_0 = PSI("psi_0", input_data=reader_0.outputs["output_data"])
    sbt_0 = HeteroSecureBoost(
        "sbt_0",
        num_trees=3,
        max_depth=3,
        he_param={"kind": "paillier", "key_length": 1024},
        train_data=psi_0.outputs["output_data"],
    )
    evaluation_0 = Evaluation(
        "evaluation_0",
        runtime_parties=dict(guest=guest),
        default_eval_setting="binary",
        input_datas=sbt_0.outputs["train_output_data"],
    )
    pipeline.add_tasks([reader_0, psi_0, sbt_0, evaluation_0])
    pipeline.compile()
    pipeline.fit()

    evaluation = pipeline.get_task_info("evaluation_0").get_output_metric()
    trained = pipeline.get_task_info("sbt_0").get_output_data()
    sbt_model = pipeline.get_task_info("sbt_0").get_output_model()

    pipeline.deploy([psi_0, sbt_0])
    predict_pipeline = FateFlowPipeline()
    deployed = pipeline.get_deployed_pipeline()
    reader_1 = Reader("reader_1", runtime_parties=dict(guest=guest, host=host))
    reader_1.guest.task_parameters(namespace=args.namespace, name="breast_hetero_guest")
    reader_1.hosts[0].task_parameters(namespace=args.namespace, name="breast_hetero_host")
    deployed.psi_0.input_data = reader_1.outputs["output_data"]
    predict_pipeline.add_tasks([reader_1, deployed])
    predict_pipeline.compile()
    predict_pipeline.predict()
    predicted = predict_pipeline.get_task_info("sbt_0").get_output_data()

    report(
        {
            "train_job_id": pipeline.model_info.job_id,
            "predict_job_id": predict_pipeline.model_info.job_id,
            "evaluation": evaluation,
            "sbt_model_keys": sorted(sbt_model),
            "train_output_data": frame_summary(trained["train_output_data"]),
            "predict_output_data": frame_summary(predicted["test_output_data"]),
        }
    )


if __name__ == "__main__":
    main()
