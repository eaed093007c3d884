"""Runs one of FATE's own pipeline scripts (FATE's ``examples/pipeline/<component>/*.py``) without a FATE-Flow
and writes the DAG of each ``fit()`` and ``predict()`` it makes, as fate_client would submit it.

It needs fate_client (2.0, 2.1 or 2.2; without the ``[fate]`` extras, with ``pydantic<2`` and
``ruamel.yaml<0.18``) in a separate environment; this project does not depend on it, and the committed
DAGs are its output, so nobody needs to run it:

    python dump_fate_examples.py FATE/examples/pipeline/psi/test_psi_multi_host.py OUT_DIR --config CONFIG

CONFIG is FATE's ``examples/config.yaml`` form (``parties: {guest: [...], host: [...], arbiter: [...]}``).
A ``fit()`` answers as FATE-Flow would, with a model named ``TRAIN_JOB_ID`` version ``"0"`` (the training
job's id, known only once it runs), so a later ``deploy()`` + ``predict()`` names that model; the task
results a script reads after ``fit()`` are empty.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from pathlib import Path
from typing import Any

from fate_client.pipeline import pipeline as fate_pipeline
from fate_client.pipeline.entity.model_info import FateFlowModelInfo
from fate_client.pipeline.executor import task_executor

TRAIN_JOB_ID = "TRAIN_JOB_ID"


class _NoResults:
    """What a script gets for `pipeline.get_task_info(...)` results: nothing, whatever it asks."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: _NoResults()

    def __iter__(self) -> Any:
        return iter(())

    def __getitem__(self, key: Any) -> Any:
        return _NoResults()


class _Writer:
    def __init__(self, script: Path, out_dir: Path) -> None:
        self.stem = f"{script.parent.name}__{script.stem}"
        self.out_dir = out_dir
        self.count = 0

    def write(self, kind: str, dag_schema: Any) -> None:
        # The same dump as `pipeline.get_dag()`: the schema without its defaults, as YAML.
        self.count += 1
        path = self.out_dir / f"{self.stem}__{self.count}_{kind}.yaml"
        path.write_text(
            fate_pipeline.yaml.safe_dump(dag_schema.dict(exclude_defaults=True)), encoding="utf-8"
        )
        print(f"wrote {path}")


def _patch(writer: _Writer) -> None:
    def fit(self: Any, dag_schema: Any, component_specs: Any, **kwargs: Any) -> Any:
        writer.write("fit", dag_schema)
        return FateFlowModelInfo(
            job_id=TRAIN_JOB_ID,
            local_role="guest",
            local_party_id="",
            model_id=TRAIN_JOB_ID,
            model_version="0",
        )

    def predict(
        self: Any, dag_schema: Any, component_specs: Any, fit_model_info: Any = None, **kwargs: Any
    ) -> Any:
        writer.write("predict", dag_schema)
        return fit_model_info

    task_executor.FateFlowExecutor.fit = fit
    task_executor.FateFlowExecutor.predict = predict
    fate_pipeline.FateFlowPipeline.get_task_info = lambda self, task: _NoResults()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    script, out_dir, config = args.script.resolve(), args.out_dir.resolve(), args.config.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    _patch(_Writer(script, out_dir))
    # FATE's scripts read their config relative to their own folder and take it as --config.
    os.chdir(script.parent)
    sys.argv = [str(script), "--config", str(config)]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
