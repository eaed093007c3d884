"""The feature_correlation component: Pearson correlation between every guest and every host feature, each
party's local correlation matrix and its local VIF, with FATE 2.2's parameters and model.

Protocol (secure where FATE 2.2 is not): FATE shares the standardised matrices and multiplies them with a
Beaver triple that one data owner generates in the clear, so that party could rebuild the other's
standardised data from the opened differences. Here no triple exists. The guest standardises its columns,
encodes them in fixed point (24 fractional bits), packs each row into Paillier plaintexts and sends them
encrypted under its own fresh 1024-bit key (every ciphertext with a fresh random obfuscator); the host
raises them to its own encoded standardised values, multiplies over the rows, adds per entry a uniform mask
64 bits wider than the entry's bound and re-randomises: the guest decrypts additive shares of
``Z_G^T Z_H`` (``fate_grpc.crypto.cross_product``). Both then send each other their share, which opens the
cross products to both, as FATE opens them. An HE product was chosen over HE-generated triples because it
needs one round trip and, with several features packed per ciphertext, fewer Paillier operations than
the triples a matrix product would consume.

What each party learns:

* host: the guest's anonymous column names and which of them are constant, the row count and a hash of
  the row ids (to refuse unaligned rows), ciphertexts under a key it does not hold, and at the end the
  guest's share, which with its own masks gives the cross correlations: FATE's output to the host.
* guest: the host's anonymous column names, constant flags, row count and id hash; the masked entries
  (statistically hidden: for any two values of an entry, the distributions of the masked entry differ by
  at most 2^-63) and at the end the host's share, which gives the cross correlations: FATE's output to
  the guest.
* Neither learns the other's raw or standardised values, means, deviations or column names.

Only semi-honest parties are protected against, as in FATE. With ``local_only`` nothing but the flag itself
is exchanged (so a mismatch is reported instead of a party waiting).

Parameters as FATE 2.2 declares them: ``local_only`` (False), ``calc_local_vif`` (True), ``skip_col``
(None; feature names to leave out; with ``use_anonymous`` (False), anonymous names
``<role>_<party_id>_<position>`` as the statistics component reads them, names of the other party
ignored). Exactly one host, as in FATE.

Output ``output_model`` at each party, FATE's shape: ``data`` = ``{"local_corr": {col: {row: r}},
"remote_corr": {col: {row: r}} | null, "vif": {"vif": {col: v}} | null}`` (column-major, as pandas'
``to_dict``); at the guest remote_corr's columns are the host's anonymous names and its rows the guest's
columns, at the host its columns are the host's columns and its rows the guest's anonymous names;
``meta`` = ``{"model_type": "feature_correlation", "column_anonymous_map": {col: anonymous} | null}``
(null with local_only). A correlation involving a constant column is null (FATE's NaN); VIF with a
constant column is refused, as FATE's assertion refuses it. No metric is logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.feature_correlation import protocol
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.statistics import anonymous_names
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml import correlation

NAME = "feature_correlation"
MODEL_TYPE = "feature_correlation"
INPUT_KEY = "input_data"
OUTPUT_MODEL = "output_model"
ROLES = frozenset({"guest", "host"})

SPEC = ComponentSpec(
    name=NAME,
    roles=ROLES,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec(INPUT_KEY, "data", ROLES),),
            outputs=(ArtifactSpec(OUTPUT_MODEL, "model", ROLES),),
        ),
    },
    parameters={
        "local_only": ParamSpec("local_only", default=False, check=checks.boolean()),
        "calc_local_vif": ParamSpec("calc_local_vif", default=True, check=checks.boolean()),
        "skip_col": ParamSpec(
            "skip_col", check=checks.list_of(checks.string(), wanted="a list of column names")
        ),
        "use_anonymous": ParamSpec("use_anonymous", default=False, check=checks.boolean()),
    },
    description="Pearson correlation across guest and host features (HE shares), local correlation, VIF.",
)


def run(ctx: ComponentContext) -> None:
    """Compute this party's correlation model from `input_data` and write it as `output_model`."""
    ctx = with_checked_parameters(ctx, SPEC)
    params = ctx.parameters
    local_only = bool(params["local_only"])
    peer = _peer(ctx, local_only)
    table = ctx.read_input_table(INPUT_KEY)
    columns = select_columns(ctx, table, params.get("skip_col"), bool(params["use_anonymous"]))
    data = _standardised(ctx, table, columns)
    local = correlation.local_correlation(data)
    vif = _vif(ctx, local, columns, data) if params["calc_local_vif"] else None
    ctx.report_progress(20)
    remote: dict[str, dict[str, float | None]] | None = None
    anonymous_map: dict[str, str] | None = None
    if peer is not None:
        own_names = anonymous_names(table, ctx.role, ctx.party_id)
        anonymous = [own_names[c] for c in columns]
        header = protocol.Header.of(table, anonymous, data.constant)
        peer_header = protocol.exchange_setup(ctx, peer, local_only, None if local_only else header)
        if not local_only and peer_header is not None:
            cross = protocol.cross_correlation(ctx, peer, data, peer_header)
            remote = _remote_document(ctx.role, cross, columns, peer_header.anonymous)
            anonymous_map = dict(zip(columns, anonymous, strict=True))
    ctx.report_progress(90)
    model = {
        "local_corr": column_major(local, columns, columns),
        "remote_corr": remote,
        "vif": None if vif is None else {"vif": dict(zip(columns, vif, strict=True))},
    }
    # FATE logs no metric for feature_correlation: the matrices are the model.
    ctx.write_output_model(
        OUTPUT_MODEL, model, {"model_type": MODEL_TYPE, "column_anonymous_map": anonymous_map}
    )


def _peer(ctx: ComponentContext, local_only: bool) -> Party | None:
    """The other party (the host at the guest, the guest at the host); None only when running alone with
    local_only."""
    guests = [p for p in ctx.parties if p.role == "guest"]
    hosts = [p for p in ctx.parties if p.role == "host"]
    if len(hosts) > 1 or len(guests) > 1:
        raise ComponentError(
            f"{NAME} supports one guest and one host (as FATE 2.2); this task has {len(guests)} guest(s)"
            f" and {len(hosts)} host(s)"
        )
    others = guests if ctx.role == "host" else hosts
    if others:
        return others[0]
    if local_only:
        return None
    raise ComponentError(f"{NAME} needs a guest and a host unless local_only is true")


def select_columns(
    ctx: ComponentContext, table: Table, skip_col: list[str] | None, use_anonymous: bool
) -> list[str]:
    """This party's feature columns minus those named by skip_col, in table order."""
    features = list(table.schema.feature_names)
    if not skip_col:
        return features
    if use_anonymous:
        prefix = f"{ctx.role}_{ctx.party_id}_"
        by_anonymous = {a: c for c, a in anonymous_names(table, ctx.role, ctx.party_id).items()}
        unknown = [n for n in skip_col if n.startswith(prefix) and n not in by_anonymous]
        if unknown:
            raise ComponentError(
                f"{NAME}: parameter skip_col names {unknown}, but {ctx.role} {ctx.party_id} has only"
                f" {len(features)} feature columns (use_anonymous is true)"
            )
        skipped = {by_anonymous[n] for n in skip_col if n in by_anonymous}
    else:
        unknown = [n for n in skip_col if n not in features]
        if unknown:
            ctx.log.warning("%s: skip_col names %s, which are not feature columns here", NAME, unknown)
        skipped = set(skip_col)
    return [c for c in features if c not in skipped]


def _standardised(ctx: ComponentContext, table: Table, columns: list[str]) -> correlation.Standardised:
    try:
        values = table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"{NAME}: input_data's feature columns must be numeric") from None
    if len(values) < 2:
        raise ComponentError(
            f"{NAME}: input_data at {ctx.role} {ctx.party_id} has {len(values)} row(s); correlation needs 2"
        )
    missing = [c for j, c in enumerate(columns) if not np.isfinite(values[:, j]).all()]
    if missing:
        raise ComponentError(
            f"{NAME}: columns {missing} at {ctx.role} {ctx.party_id} have missing or infinite values; fill"
            " them first or leave them out with skip_col"
        )
    return correlation.standardise(values)


def _vif(
    ctx: ComponentContext, local: np.ndarray, columns: list[str], data: correlation.Standardised
) -> list[float]:
    constant = [c for c, flag in zip(columns, data.constant.tolist(), strict=True) if flag]
    if constant:
        raise ComponentError(
            f"{NAME}: columns {constant} at {ctx.role} {ctx.party_id} are constant, so their VIF is"
            " undefined; leave them out with skip_col or set calc_local_vif to false"
        )
    return [float(v) for v in correlation.local_vif(local)]


def _remote_document(
    role: str, cross: np.ndarray, columns: list[str], peer_anonymous: list[str]
) -> dict[str, dict[str, float | None]]:
    """FATE's remote_corr: guest rows by host columns, named by each party's own view."""
    if role == "guest":
        return column_major(cross, columns, peer_anonymous)
    return column_major(cross, peer_anonymous, columns)


def column_major(matrix: np.ndarray, rows: list[str], columns: list[str]) -> dict[str, dict[str, Any]]:
    """``{column: {row: value}}`` (pandas' ``DataFrame.to_dict()``), NaN as null."""
    values = np.asarray(matrix, dtype=np.float64).reshape(len(rows), len(columns))
    return {
        column: {row: _json_float(values[i, j]) for i, row in enumerate(rows)}
        for j, column in enumerate(columns)
    }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
