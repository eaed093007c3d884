"""The hetero_feature_selection component: keep the features that pass IV, statistics and manual filters.

Methods run in the order given (`method`, e.g. ["iv", "manual"]), each on the survivors of the one
before. `select_col` limits the candidates; other feature columns are always kept.

- manual and statistics run at each party on its own columns, with its own parameters and its own
  statistics model (from `input_models`).
- iv is federated. Each host sends the guest the anonymous ids (`host_<party>_<position>`) of its
  surviving candidates; the guest filters its own features and those ids with the IVs from its
  binning model (which holds the hosts' IVs under the same anonymous ids, computed over encrypted
  labels), then tells each host which of its ids survive. Hosts never see an IV or a label; the guest
  never sees a host column name or value. With filter_type "threshold", guest features use
  `threshold`/`take_high` and host features `host_thresholds`/`host_take_high`; "top_k" and
  "top_percentile" rank guest and host features together (select_federated) or each party's alone.
- keep_one: a filter that would drop all of a party's candidates keeps its best one.

Train writes `train_output_data` (the kept columns) and `train_output_model`; predict applies an
`input_model` to `test_data`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, InputModel, Party
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.selection_params import (
    COLUMNS,
    FILTER_TYPES,
    IV_PARAM,
    IV_PARAM_DEFAULT,
    MANUAL_PARAM,
    METHODS,
    STATISTIC_PARAM,
    STATISTIC_PARAM_DEFAULT,
)
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.selection import filter_by_metric

ROLES = frozenset({"guest", "host"})
TAG_HOST_CANDIDATES = "selection.host_candidates"
TAG_HOST_SELECTED = "selection.host_selected"
MODEL_TYPE = "hetero_feature_selection"

SPEC = ComponentSpec(
    name="hetero_feature_selection",
    roles=ROLES,
    stages={
        "train": StageSpec(
            inputs=(
                ArtifactSpec("train_data", "data", ROLES),
                ArtifactSpec("input_models", "model", ROLES, multi=True, optional=True),
            ),
            outputs=(
                ArtifactSpec("train_output_data", "data", ROLES),
                ArtifactSpec("train_output_model", "model", ROLES),
            ),
        ),
        "predict": StageSpec(
            inputs=(ArtifactSpec("test_data", "data", ROLES), ArtifactSpec("input_model", "model", ROLES)),
            outputs=(ArtifactSpec("test_output_data", "data", ROLES),),
        ),
    },
    parameters={
        "method": ParamSpec(
            "method", default=["manual"], check=checks.list_of(checks.choice(*METHODS), single=True)
        ),
        "select_col": ParamSpec("select_col", check=COLUMNS),
        "iv_param": ParamSpec("iv_param", default=IV_PARAM_DEFAULT, check=IV_PARAM),
        "statistic_param": ParamSpec(
            "statistic_param", default=STATISTIC_PARAM_DEFAULT, check=STATISTIC_PARAM
        ),
        "manual_param": ParamSpec(
            "manual_param", default={"keep_col": [], "filter_out_col": []}, check=MANUAL_PARAM
        ),
        "keep_one": ParamSpec("keep_one", default=True, check=checks.boolean()),
        "use_anonymous": ParamSpec("use_anonymous", default=False, check=checks.boolean()),
    },
    description="Feature selection by IV (federated over anonymous host ids), statistics and manual lists.",
)

IV_DEFAULTS = {
    "metrics": "iv",
    "filter_type": "threshold",
    "threshold": 1.0,
    "take_high": True,
    "host_thresholds": None,
    "host_take_high": None,
    "select_federated": True,
}
STATISTIC_DEFAULTS = {"metrics": "mean", "filter_type": "threshold", "threshold": 1.0, "take_high": True}


def run(ctx: ComponentContext) -> None:
    ctx = with_checked_parameters(ctx, SPEC)
    if ctx.stage == "predict":
        table = ctx.read_input_table("test_data")
        model = ctx.read_input_model("input_model")
        if not isinstance(model.meta, dict) or model.meta.get("model_type") != MODEL_TYPE:
            raise ComponentError("input_model is not a hetero_feature_selection model")
        kept = list(model.data["kept_columns"])
        missing = [c for c in kept if c not in table.schema.feature_names]
        if missing:
            raise ComponentError(f"test_data lacks the selected column(s) {missing}")
        ctx.write_output_table("test_output_data", keep_columns(table, kept))
        return
    _train(ctx)


def _train(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("train_data")
    features = list(table.schema.feature_names)
    params = _named_by_column(ctx, features) if ctx.parameters.get("use_anonymous") else ctx.parameters
    methods = _methods(params.get("method"))
    candidates = _candidates(features, params.get("select_col"))
    models = [ctx.read_input_model("input_models", i) for i in range(ctx.input_count("input_models"))]
    selector = _PartySelection(ctx, features, candidates, models, bool(params.get("keep_one", True)))
    for method in methods:
        if method == "manual":
            selector.manual(params.get("manual_param") or {})
        elif method == "statistics":
            statistic_param = _single_filter(
                params.get("statistic_param") or {}, "statistic_param", "threshold"
            )
            selector.statistics({**STATISTIC_DEFAULTS, **statistic_param})
        else:
            selector.iv({**IV_DEFAULTS, **_iv_filter(params.get("iv_param") or {})})
    chosen = set(selector.survivors)
    kept = [f for f in features if f not in candidates or f in chosen]
    ctx.report_progress(80)
    ctx.write_output_table("train_output_data", keep_columns(table, kept))
    ctx.write_output_model(
        "train_output_model",
        {"kept_columns": kept, "candidates": candidates, "steps": selector.records},
        {"model_type": MODEL_TYPE, "method": methods, "keep_one": selector.keep_one},
    )


class _PartySelection:
    """The candidates still alive at this party, and what each step did."""

    def __init__(
        self,
        ctx: ComponentContext,
        features: list[str],
        candidates: list[str],
        models: list[InputModel],
        keep_one: bool,
    ) -> None:
        self.ctx = ctx
        self.features = features
        self.candidates = list(candidates)
        self.survivors = list(candidates)
        self.models = models
        self.keep_one = keep_one
        self.records: list[dict[str, Any]] = []

    def _keep(self, method: str, kept: list[str], values: dict[str, float] | None, take_high: bool) -> None:
        rescued = None
        if self.keep_one and not kept and self.survivors:
            ranked = sorted(
                self.survivors,
                key=lambda f: (values or {}).get(f, float("-inf")) * (1 if take_high else -1),
                reverse=True,
            )
            rescued = ranked[0]
            kept = [rescued]
        kept_set = set(kept)
        self.records.append(
            {
                "method": method,
                "input": list(self.survivors),
                "kept": [f for f in self.survivors if f in kept_set],
                "kept_by_keep_one": rescued,
                **({"values": {f: values.get(f) for f in self.survivors}} if values is not None else {}),
            }
        )
        self.survivors = [f for f in self.survivors if f in kept_set]

    def manual(self, param: dict[str, Any]) -> None:
        out = set(param.get("filter_out_col") or [])
        keep = set(param.get("keep_col") or [])
        unknown = sorted((out | keep) - set(self.candidates))
        if unknown:
            raise ComponentError(
                f"manual_param names column(s) {unknown}, which are not among the candidates (select_col or "
                f"the features) at {self.ctx.role} {self.ctx.party_id}"
            )
        # FATE: keep_col keeps a column even when an earlier filter of the chain dropped it.
        alive = set(self.survivors) | keep
        self.survivors = [f for f in self.candidates if f in alive]
        kept = [f for f in self.survivors if f not in out or f in keep]
        self._keep("manual", kept, None, True)

    def statistics(self, param: dict[str, Any]) -> None:
        stats = _statistics_of(self.models)
        names = param["metrics"] if isinstance(param["metrics"], list) else [param["metrics"]]
        thresholds = _per_metric(param["threshold"], len(names), "statistic_param.threshold")
        kept = list(self.survivors)
        values: dict[str, float] = {}
        for name, threshold in zip(names, thresholds, strict=True):
            column_values = stats.get(str(name))
            if column_values is None:
                raise ComponentError(
                    f"statistic_param.metrics names {name!r}, which the statistics model lacks"
                )
            values = {f: _number(column_values.get(f)) for f in kept}
            kept = _filter(values, param["filter_type"], threshold, bool(param["take_high"]))
        self._keep("statistics", kept, values, bool(param["take_high"]))

    def iv(self, param: dict[str, Any]) -> None:
        _check_filter_type(param["filter_type"], "iv_param")
        if self.ctx.role == "host":
            self._iv_at_host()
        else:
            self._iv_at_guest(param)

    def _iv_at_host(self) -> None:
        guest = _the_guest(self.ctx)
        # Anonymous ids count over all of the host's features, as the binning component names them.
        positions = {f: i for i, f in enumerate(self.features)}
        anonymous = [f"host_{self.ctx.party_id}_{positions[f]}" for f in self.survivors]
        self.ctx.send(TAG_HOST_CANDIDATES, guest, encode_arrays({"ids": np.array(anonymous, dtype=str)}))
        selected = set(decode_arrays(self.ctx.receive(TAG_HOST_SELECTED, guest))["ids"].tolist())
        kept = [f for f, a in zip(self.survivors, anonymous, strict=True) if a in selected]
        self.records.append(
            {"method": "iv", "input": list(self.survivors), "kept": kept, "decided_by": "guest"}
        )
        self.survivors = kept

    def _iv_at_guest(self, param: dict[str, Any]) -> None:
        hosts = [p for p in self.ctx.parties if p.role == "host"]
        host_ids = {h: _receive_ids(self.ctx, h) for h in hosts}
        own_iv, host_iv = _ivs_of(self.models)
        missing = [f for f in self.survivors if f not in own_iv]
        if missing:
            raise ComponentError(f"the binning model has no IV for feature(s) {missing}")
        guest_values = {f: own_iv[f] for f in self.survivors}
        all_host = {a: host_iv.get(a) for ids in host_ids.values() for a in ids}
        unknown = [a for a, v in all_host.items() if v is None]
        if unknown:
            raise ComponentError(f"the binning model has no IV for host feature(s) {unknown[:5]}")
        host_values = {a: float(v) for a, v in all_host.items() if v is not None}
        kept_guest, kept_host = _iv_decision(guest_values, host_values, param)
        self._keep("iv", kept_guest, guest_values, bool(param["take_high"]))
        for host, ids in host_ids.items():
            chosen = [a for a in ids if a in kept_host]
            if self.keep_one and ids and not chosen:
                chosen = [max(ids, key=lambda a: host_values[a])]
            self.records[-1].setdefault("host_kept", {})[str(host)] = chosen
            self.ctx.send(TAG_HOST_SELECTED, host, encode_arrays({"ids": np.array(chosen, dtype=str)}))


def _iv_decision(
    guest_values: dict[str, float], host_values: dict[str, float], param: dict[str, Any]
) -> tuple[list[str], set[str]]:
    filter_type, take_high = str(param["filter_type"]), bool(param["take_high"])
    if filter_type == "threshold":
        host_threshold = param["host_thresholds"]
        host_high = param["host_take_high"]
        kept_guest = _filter(guest_values, filter_type, float(param["threshold"]), take_high)
        kept_host = _filter(
            host_values,
            filter_type,
            float(param["threshold"] if host_threshold is None else host_threshold),
            take_high if host_high is None else bool(host_high),
        )
        return kept_guest, set(kept_host)
    if param.get("select_federated", True):
        pooled = _filter({**guest_values, **host_values}, filter_type, float(param["threshold"]), take_high)
        return [f for f in guest_values if f in pooled], {a for a in host_values if a in pooled}
    kept_guest = _filter(guest_values, filter_type, float(param["threshold"]), take_high)
    return kept_guest, set(_filter(host_values, filter_type, float(param["threshold"]), take_high))


def _filter(values: dict[str, float], filter_type: str, threshold: float, take_high: bool) -> list[str]:
    _check_filter_type(filter_type, "filter_type")
    if not values:
        return []
    try:
        return filter_by_metric(values, filter_type, threshold, take_high)
    except ValueError as exc:
        raise ComponentError(str(exc)) from None


def _check_filter_type(value: Any, where: str) -> None:
    if value not in FILTER_TYPES:
        raise ComponentError(f"{where}: filter_type must be one of {', '.join(FILTER_TYPES)}, not {value!r}")


def _ivs_of(models: list[InputModel]) -> tuple[dict[str, float], dict[str, float]]:
    for model in models:
        if _model_type(model) == "hetero_feature_binning":
            data = model.data
            own = {c: float(m["iv"]) for c, m in (data.get("metrics") or {}).items()}
            hosts = {a: float(m["iv"]) for a, m in (data.get("host_metrics") or {}).items()}
            return own, hosts
    raise ComponentError("method iv needs a hetero_feature_binning model in input_models")


def _statistics_of(models: list[InputModel]) -> dict[str, dict[str, Any]]:
    for model in models:
        if _model_type(model) == "statistics":
            data = model.data
            return dict(data.get("statistics", data)) if isinstance(data, dict) else {}
    raise ComponentError("method statistics needs a statistics model in input_models")


def _model_type(model: InputModel) -> str:
    meta = model.meta if isinstance(model.meta, dict) else {}
    return str(meta.get("model_type") or model.source.get("component", ""))


def _receive_ids(ctx: ComponentContext, host: Party) -> list[str]:
    return [str(a) for a in decode_arrays(ctx.receive(TAG_HOST_CANDIDATES, host))["ids"].tolist()]


def _the_guest(ctx: ComponentContext) -> Party:
    guests = [p for p in ctx.parties if p.role == "guest"]
    if len(guests) != 1:
        raise ComponentError("iv selection needs exactly one guest")
    return guests[0]


def _methods(value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or ["manual"])
    methods = [str(m).lower() for m in names]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ComponentError(f"method {unknown} unknown; choose from {', '.join(METHODS)}")
    return methods


def _named_by_column(ctx: ComponentContext, features: list[str]) -> dict[str, Any]:
    """With use_anonymous, select_col, keep_col and filter_out_col name columns anonymously
    (``<role>_<party_id>_<i>``); this party's names become its column names, other parties' are dropped
    (one list serves every party)."""
    prefix = f"{ctx.role}_{ctx.party_id}_"
    own = {f"{prefix}{i}": f for i, f in enumerate(features)}

    def columns(names: Any, where: str) -> Any:
        if names is None:
            return None
        mine = [n for n in names if str(n).startswith(prefix)]
        unknown = [n for n in mine if n not in own]
        if unknown:
            raise ComponentError(
                f"{where} names {unknown}, not anonymous columns of {ctx.role} {ctx.party_id}"
            )
        return [own[n] for n in mine]

    params = dict(ctx.parameters)
    params["select_col"] = columns(params.get("select_col"), "select_col")
    manual = dict(params.get("manual_param") or {})
    for key in ("keep_col", "filter_out_col"):
        manual[key] = columns(manual.get(key), f"manual_param.{key}") or []
    params["manual_param"] = manual
    return params


def _candidates(features: list[str], select_col: Any) -> list[str]:
    if select_col is None:
        return list(features)
    unknown = [c for c in select_col if c not in features]
    if unknown:
        raise ComponentError(f"select_col names column(s) {unknown} that are not features here")
    return [f for f in features if f in set(select_col)]


def _iv_filter(param: dict[str, Any]) -> dict[str, Any]:
    """iv_param as the selector reads it. FATE declares host_threshold and host_take_high but filters
    hosts' features with the guest's values; here the host values apply when given (the guest's
    otherwise, so leaving them out behaves as FATE does)."""
    single = _single_filter(param, "iv_param")
    hosts = _single_filter(
        {
            "threshold": param.get("host_threshold"),
            "take_high": param.get("host_take_high"),
            "filter_type": param.get("host_filter_type"),
        },
        "iv_param.host",
    )
    if hosts["filter_type"] is not None and hosts["filter_type"] != single["filter_type"]:
        raise ComponentError("iv_param.host_filter_type must equal filter_type here")
    return {**single, "host_thresholds": hosts["threshold"], "host_take_high": hosts["take_high"]}


def _single_filter(param: dict[str, Any], where: str, *per_metric: str) -> dict[str, Any]:
    """FATE's list-per-filter form with one filter, as single values (lists of `per_metric` keys stay)."""
    out = dict(param)
    for key in ("metrics", "filter_type", "threshold", "take_high"):
        value = out.get(key)
        if (
            (key == "metrics" and where == "statistic_param")
            or key in per_metric
            or not isinstance(value, list)
        ):
            continue
        if len({repr(v) for v in value}) > 1:
            raise ComponentError(
                f"{where}.{key} {value!r}: several filters in one {where} are not supported here; "
                "give one value (or the same value for every metric)"
            )
        out[key] = value[0]
    return out


def _per_metric(value: Any, count: int, where: str) -> list[float]:
    # One value applies to every metric (FATE repeats a one-item list to the number of metrics).
    values = value * count if isinstance(value, list) and len(value) == 1 else value
    values = values if isinstance(values, list) else [values] * count
    if len(values) != count:
        raise ComponentError(f"{where} needs one value per metric")
    return [float(v) for v in values]


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def keep_columns(table: Table, kept_features: list[str]) -> Table:
    schema = table.schema
    keep = set(kept_features)
    header = tuple(c for c in schema.header if c not in schema.feature_names or c in keep)
    return Table(frame=table.frame[list(header)].copy(), schema=replace(schema, header=header))
