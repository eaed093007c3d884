"""The registry of built-in components: name -> the function that runs it at one party."""

from __future__ import annotations

from collections.abc import Callable

from fate_grpc.components import (
    coordinated_lr,
    data_split,
    evaluation,
    feature_binning,
    feature_correlation,
    feature_scale,
    feature_selection,
    hetero_secureboost,
    homo_lr,
    psi,
    reader,
    sample,
    sshe_lr,
    statistics,
    toy_example,
    union,
)
from fate_grpc.components.context import ComponentContext

Component = Callable[[ComponentContext], None]

RUNNERS: dict[str, Component] = {
    "reader": reader.run,
    "psi": psi.run,
    "feature_scale": feature_scale.run,
    "hetero_feature_binning": feature_binning.run,
    "hetero_feature_selection": feature_selection.run,
    "feature_correlation": feature_correlation.run,
    "evaluation": evaluation.run,
    "data_split": data_split.run,
    "sample": sample.run,
    "union": union.run,
    "statistics": statistics.run,
    "toy_example": toy_example.run,
    "coordinated_lr": coordinated_lr.run_lr,
    "coordinated_linr": coordinated_lr.run_linr,
    "hetero_secureboost": hetero_secureboost.run,
    "sshe_lr": sshe_lr.run_lr,
    "sshe_linr": sshe_lr.run_linr,
    "homo_lr": homo_lr.run,
}


def get_component(name: str) -> Component:
    """The run function of the built-in component `name`.

    Raises:
        KeyError: No built-in component has that name.
    """
    try:
        return RUNNERS[name]
    except KeyError:
        raise KeyError(f"unknown component {name!r}; known: {', '.join(sorted(RUNNERS))}") from None
