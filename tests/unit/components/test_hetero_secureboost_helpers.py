"""Helpers of the hetero_secureboost component tests (no tests here): federations, synthetic tables, the
plaintext oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fate_grpc.components import hetero_secureboost
from fate_grpc.components.context import InputModel, Party
from fate_grpc.components.table import Table
from fate_grpc.ml.secureboost import binning
from fate_grpc.ml.secureboost.booster import BoostParams, PlainModel, fit_plaintext, raw_scores
from fate_grpc.ml.secureboost.splitter import SplitParams
from tests.support.local_context import LocalFederation, table_from_frame
from tests.unit.components.breast import GUEST, HOST

HOST_2 = Party("host", "10001")


def run(
    tables: dict[Party, Table],
    params: dict[str, Any],
    *,
    stage: str = "train",
    key: str = "train_data",
    models: dict[Party, dict[str, InputModel]] | None = None,
    extra: dict[Party, dict[str, Table]] | None = None,
) -> tuple[LocalFederation, dict[Party, dict[str, Table]]]:
    inputs: dict[Party, dict[str, Table]] = {p: {key: t} for p, t in tables.items()}
    for party, more in (extra or {}).items():
        inputs[party].update(more)
    federation = LocalFederation(
        list(tables), inputs=inputs, common_parameters=params, stage=stage, run_timeout_s=600, models=models
    )
    return federation, federation.run(hetero_secureboost.run)


def output_model(federation: LocalFederation, party: Party) -> InputModel:
    saved = federation.contexts[party].models["output_model"]
    return InputModel(saved.data, saved.meta)


def small(tables: dict[Party, Table], rows: int) -> dict[Party, Table]:
    return {party: table.take(np.arange(rows)) for party, table in tables.items()}


def split_columns(
    frame: pd.DataFrame, label: str | None, parties: list[Party], widths: list[int]
) -> dict[Party, Table]:
    """``frame``'s features split between parties, in order (the first party also gets the label)."""
    features = [c for c in frame.columns if c not in ("id", label)]
    out: dict[Party, Table] = {}
    start = 0
    for index, (party, width) in enumerate(zip(parties, widths, strict=True)):
        columns = ["id", *([label] if index == 0 and label else []), *features[start : start + width]]
        out[party] = table_from_frame(frame[columns], "id", label_name=label if index == 0 and label else "")
        start += width
    return out


def synthetic(kind: str, rows: int = 240, seed: int = 5) -> dict[Party, Table]:
    """Guest 3 + host 4 features; labels for 4 classes or a regression target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 7))
    signal = x[:, 0] + 0.8 * x[:, 3] - 0.6 * x[:, 5]
    y = (
        np.digitize(signal, [-1.0, 0.0, 1.0])
        if kind == "multi"
        else 3.0 * signal + rng.normal(0.2, size=rows)
    )
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(7)])
    frame.insert(0, "y", y)
    frame.insert(0, "id", [str(i) for i in range(rows)])
    return split_columns(frame, "y", [GUEST, HOST], [3, 4])


def joined(tables: dict[Party, Table]) -> tuple[np.ndarray, np.ndarray]:
    """Every party's features side by side (guest first) and the guest's labels."""
    matrices = [t.frame[list(t.schema.feature_names)].to_numpy(dtype=np.float64) for t in tables.values()]
    guest = tables[GUEST]
    return np.hstack(matrices), guest.frame[guest.schema.label_name].to_numpy(dtype=np.float64)


def oracle(tables: dict[Party, Table], params: dict[str, Any]) -> tuple[PlainModel, np.ndarray]:
    """The plaintext booster on the joined data, binned per column as each party bins; its raw scores."""
    x, labels = joined(tables)
    points = binning.split_points(x, params.get("max_bin", 32))
    bins = binning.bin_indices(x, points)
    split_keys = ("l1", "l2", "min_impurity_split", "min_sample_split", "min_leaf_node", "min_child_weight")
    split = SplitParams(**{k: params[k] for k in split_keys if k in params})
    boost_keys = (
        "num_trees",
        "learning_rate",
        "max_depth",
        "objective",
        "num_class",
        "goss",
        "goss_start_iter",
    )
    boost = BoostParams(**{k: params[k] for k in boost_keys if k in params}, split=split)
    model = fit_plaintext(bins, int(binning.bin_counts(points).max()), labels, boost)
    return model, raw_scores(model, bins)
