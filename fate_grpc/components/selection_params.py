"""hetero_feature_selection's parameters as FATE 2.2 declares them (its ``_filter_param.py``).

Every filter field but ``select_federated`` takes one value or a list (one per filter); a one-item list
stands for every filter; thresholds are fractions in [0, 1] or counts >= 1.
"""

from __future__ import annotations

from typing import Any

from fate_grpc.components import statistics
from fate_grpc.domain import param_checks as checks

METHODS = ("manual", "iv", "statistics")
FILTER_TYPES = ("threshold", "top_k", "top_percentile")

COLUMNS = checks.list_of(checks.string(), wanted="a list of column names")
_FILTER_TYPES = checks.list_of(checks.choice(*FILTER_TYPES), single=True)
_THRESHOLDS = checks.list_of(
    checks.any_of(
        checks.number(ge=0, le=1), checks.integer(ge=1), wanted="a fraction in [0, 1] or a count >= 1"
    ),
    single=True,
)
_TAKE_HIGH = checks.list_of(checks.boolean(), single=True)
_FILTER_FIELDS = {"filter_type": _FILTER_TYPES, "threshold": _THRESHOLDS, "take_high": _TAKE_HIGH}
IV_PARAM_DEFAULT = {
    "metrics": ["iv"],
    "filter_type": ["threshold"],
    "threshold": [1.0],
    "take_high": [True],
    "select_federated": True,
}


def _same_lengths(value: dict[str, Any]) -> str | None:
    # FATE repeats a one-item list to the longest one; other lengths must match (one item per filter).
    lists = {k: v for k, v in value.items() if isinstance(v, list)}
    longest = max(len(v) for v in lists.values())
    uneven = sorted(k for k, v in lists.items() if len(v) not in (1, longest))
    return f"{', '.join(uneven)} must have 1 or {longest} items (one per filter)" if uneven else None


IV_PARAM = checks.refine(
    checks.record(
        {
            "metrics": checks.list_of(checks.choice("iv"), single=True),
            **_FILTER_FIELDS,
            "host_filter_type": _FILTER_TYPES,
            "host_threshold": _THRESHOLDS,
            "host_take_high": _TAKE_HIGH,
            "select_federated": checks.boolean(),
        },
        defaults=IV_PARAM_DEFAULT,
    ),
    _same_lengths,
)
STATISTIC_PARAM_DEFAULT = {
    "metrics": ["mean"],
    "filter_type": ["threshold"],
    "threshold": [1.0],
    "take_high": [True],
}
STATISTIC_PARAM = checks.refine(
    checks.record({"metrics": statistics.METRICS_CHECK, **_FILTER_FIELDS}, defaults=STATISTIC_PARAM_DEFAULT),
    _same_lengths,
)


def _manual_rule(value: dict[str, Any]) -> str | None:
    shared = set(value["keep_col"]) & set(value["filter_out_col"])
    return f"keep_col and filter_out_col share {sorted(shared)}" if shared else None


MANUAL_PARAM = checks.refine(
    checks.record(
        {"keep_col": COLUMNS, "filter_out_col": COLUMNS}, defaults={"keep_col": [], "filter_out_col": []}
    ),
    _manual_rule,
)
