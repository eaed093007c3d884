"""The hetero_feature_binning component: quantile / bucket / manual binning at every party, WOE and IV
computed by the guest (the label holder) for its own features and, over encrypted labels, for the hosts'.

Protocol between the guest (Paillier key pair, `he_param.key_length` bits, 1024 by default) and each host:

1. guest -> host `binning.public_key`: the public key.
   guest -> host `binning.encrypted_labels`: [[y_i]] for every row (rows are aligned by psi), each a
   fresh encryption (randomised), so the host sees ciphertexts only.
2. The host bins its own features, sums the ciphertexts of the rows in each (feature, bin) - homomorphic
   additions, re-randomised - and packs up to `slots` of those sums into one ciphertext (each sum is at
   most the row count, so slots of bit_length(rows) + 1 bits never carry into each other).
   host -> guest `binning.host_bin_sums`: the packed ciphertexts, the packing layout and the row count of
   each bin (FATE sends those counts too: non_event = count - event), keyed by anonymous feature ids
   `host_<party>_<position>`.
3. The guest decrypts the event count of each host bin, derives the non-event counts, and computes WOE
   and IV per host feature under its anonymous id.

What each party learns: the host learns nothing about labels (ciphertexts only, under a key it does not
hold); the guest learns, per anonymous host feature, how many rows and events fall in each bin - FATE's
output of this protocol - but no host value, split point or column name. Host features never get WOE
values (transform_method "woe" applies at the guest only; hosts may use "bin_idx").

Train: `train_data` -> `train_output_data` (transformed when transform_method is set) and
`output_model`; predict: `test_data` + `input_model` -> `test_output_data`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.model_common.crypto_workers import CryptoWorkers
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.crypto import paillier
from fate_grpc.crypto.fixedpoint import PackingLayout
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml import binning

ROLES = frozenset({"guest", "host"})
TAG_PUBLIC_KEY = "binning.public_key"
TAG_LABELS = "binning.encrypted_labels"
TAG_HOST_SUMS = "binning.host_bin_sums"
MODEL_TYPE = "hetero_feature_binning"
METHODS = ("quantile", "bucket", "manual")
TRANSFORMS = ("woe", "bin_idx")
# Encrypt/decrypt on worker processes only when the vector is big enough to pay for them.
PARALLEL_MIN_ROWS = 4096

_COLUMNS = checks.list_of(checks.string(), wanted="a list of column names")
_INDEXES = checks.list_of(checks.integer(ge=0), wanted="a list of column indexes")


def _he_rule(value: dict[str, Any]) -> str | None:
    # FATE also knows "ou" and "mock" (mock is disallowed by its default safety config); only Paillier
    # is implemented here. FATE's safety config sets the minimum key size.
    if value["kind"] != "paillier":
        return f"kind {value['kind']!r} is not available here; use paillier"
    if value["key_length"] < paillier.MIN_KEY_BITS:
        return f"key_length must be at least {paillier.MIN_KEY_BITS}, got {value['key_length']}"
    return None


# FATE's HEParam: kind (required) and key_length (1024 when absent).
HE_PARAM = checks.refine(
    checks.record(
        {"kind": checks.choice("paillier", "ou", "mock"), "key_length": checks.integer()},
        required=("kind",),
        defaults={"key_length": 1024},
    ),
    _he_rule,
)

SPEC = ComponentSpec(
    name="hetero_feature_binning",
    roles=ROLES,
    stages={
        "train": StageSpec(
            inputs=(ArtifactSpec("train_data", "data", ROLES),),
            outputs=(
                ArtifactSpec("train_output_data", "data", ROLES),
                ArtifactSpec("output_model", "model", ROLES),
            ),
        ),
        "predict": StageSpec(
            inputs=(ArtifactSpec("test_data", "data", ROLES), ArtifactSpec("input_model", "model", ROLES)),
            outputs=(ArtifactSpec("test_output_data", "data", ROLES),),
        ),
    },
    parameters={
        "method": ParamSpec("method", default="quantile", check=checks.choice(*METHODS)),
        "n_bins": ParamSpec("n_bins", default=10, check=checks.integer(gt=1)),
        "split_pt_dict": ParamSpec(
            "split_pt_dict",
            check=checks.mapping_of(
                checks.string(),
                checks.list_of(checks.number(), wanted="a list of split points"),
                wanted="a mapping {column: [split points]}",
            ),
        ),
        "bin_col": ParamSpec("bin_col", check=_COLUMNS),
        "bin_idx": ParamSpec("bin_idx", check=_INDEXES),
        "category_col": ParamSpec("category_col", check=_COLUMNS),
        "category_idx": ParamSpec("category_idx", check=_INDEXES),
        "use_anonymous": ParamSpec("use_anonymous", default=False, check=checks.boolean()),
        "transform_method": ParamSpec("transform_method", check=checks.choice(*TRANSFORMS)),
        "skip_metrics": ParamSpec("skip_metrics", default=False, check=checks.boolean()),
        "local_only": ParamSpec("local_only", default=False, check=checks.boolean()),
        "relative_error": ParamSpec("relative_error", default=1e-6, check=checks.number(gt=0, le=1)),
        "adjustment_factor": ParamSpec("adjustment_factor", default=0.5, check=checks.number(gt=0)),
        "he_param": ParamSpec("he_param", default={"kind": "paillier", "key_length": 1024}, check=HE_PARAM),
    },
    description="Quantile/bucket binning at every party; WOE/IV over Paillier-encrypted labels for hosts.",
)


def run(ctx: ComponentContext) -> None:
    ctx = with_checked_parameters(ctx, SPEC)
    if ctx.stage == "predict":
        _predict(ctx)
    else:
        _train(ctx)


# -- fitting -------------------------------------------------------------------------------------------


def _train(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("train_data")
    params = ctx.parameters
    features = list(table.schema.feature_names)
    columns = _bin_columns(table, params, ctx.role, ctx.party_id)
    split_pt_dict = _own_split_points(params, features, ctx.role, ctx.party_id)
    if split_pt_dict is not None:
        # FATE bins only the chosen columns that have split points given (whatever the method); the
        # others pass through unbinned.
        unknown = sorted(set(split_pt_dict) - set(features))
        if unknown:
            ctx.log.warning("binning: split_pt_dict names column(s) %s not in train_data here", unknown)
        columns = [c for c in columns if c in split_pt_dict]
        params = {**params, "split_pt_dict": split_pt_dict}
    categories = set(_chosen(features, params.get("category_col"), params.get("category_idx"), "category"))
    values = _matrix(table, columns)
    split_points = _split_points(values, columns, categories, params)
    bins = binning.bin_indices(values, split_points) if columns else np.zeros((len(table), 0), np.int64)
    ctx.report_progress(20)
    model: dict[str, Any] = {
        "method": str(params.get("method") or "quantile"),
        "bin_col": columns,
        "category_col": sorted(categories & set(columns)),
        "split_points": {c: sp.tolist() for c, sp in zip(columns, split_points, strict=True)},
        "anonymous": {f"{ctx.role}_{ctx.party_id}_{features.index(c)}": c for c in columns},
    }
    run_federated = not params.get("local_only") and not params.get("skip_metrics")
    if ctx.role == "guest":
        model.update(_guest_metrics(ctx, table, columns, bins, split_points, run_federated))
    elif run_federated:
        _host_protocol(ctx, table, columns, bins, split_points)
    ctx.report_progress(90)
    transform = params.get("transform_method")
    ctx.write_output_table("train_output_data", _transformed(table, model, transform, ctx.role))
    meta = {
        "model_type": MODEL_TYPE,
        "method": model["method"],
        "n_bins": int(params.get("n_bins") or 10),
        "transform_method": transform,
        "adjustment_factor": float(params.get("adjustment_factor", 0.5)),
        "he_param": dict(params.get("he_param") or {}),
    }
    # FATE's binning logs no metric: its WOE and IV are in the model.
    ctx.write_output_model("output_model", model, meta)


def _predict(ctx: ComponentContext) -> None:
    table = ctx.read_input_table("test_data")
    model = ctx.read_input_model("input_model")
    if not isinstance(model.meta, dict) or model.meta.get("model_type") != MODEL_TYPE:
        raise ComponentError("input_model is not a hetero_feature_binning model")
    transform = ctx.parameters.get("transform_method") or model.meta.get("transform_method")
    ctx.write_output_table("test_output_data", _transformed(table, model.data, transform, ctx.role))


def _split_points(
    values: np.ndarray, columns: list[str], categories: set[str], params: dict[str, Any]
) -> list[np.ndarray]:
    method = str(params.get("method") or "quantile")
    n_bins = int(params.get("n_bins") or 10)
    if n_bins < 2:
        raise ComponentError("n_bins must be at least 2")
    if not columns:
        return []
    if method == "manual":
        given = params.get("split_pt_dict") or {}
        missing = [c for c in columns if c not in given]
        if missing:
            raise ComponentError(f"method manual needs split_pt_dict entries for {missing}")
        points = [np.asarray(sorted(float(v) for v in given[c]), dtype=np.float64) for c in columns]
    elif method == "bucket":
        points = binning.bucket_split_points(values, n_bins)
    else:
        points = binning.quantile_split_points(values, n_bins, float(params.get("relative_error", 1e-6)))
    for j, column in enumerate(columns):
        if column in categories:
            present = values[:, j][~np.isnan(values[:, j])]
            points[j] = np.unique(present)  # one bin per category value
    return [np.asarray(p, dtype=np.float64) for p in points]


# -- WOE / IV at the guest -----------------------------------------------------------------------------


def _guest_metrics(
    ctx: ComponentContext,
    table: Table,
    columns: list[str],
    bins: np.ndarray,
    split_points: list[np.ndarray],
    federated: bool,
) -> dict[str, Any]:
    if ctx.parameters.get("skip_metrics"):
        return {}
    label = table.schema.label_name
    if not label:
        raise ComponentError("hetero_feature_binning needs the guest's label column (label_name)")
    y = _labels(table, label)
    adjustment = float(ctx.parameters.get("adjustment_factor", 0.5))
    sizes = _bins_with_missing(bins, split_points)
    events, non_events = binning.label_counts_by_bin(bins, y, sizes)
    own = binning.woe_iv(
        dict(zip(columns, events, strict=True)), dict(zip(columns, non_events, strict=True)), adjustment
    )
    result: dict[str, Any] = {"metrics": _per_column(own, columns), "metrics_iv": own["iv"]}
    hosts = [p for p in ctx.parties if p.role == "host"]
    if federated and hosts:
        host_metrics = _host_woe_iv(ctx, hosts, y, adjustment)
        result["host_metrics"] = _per_column(host_metrics, list(host_metrics["iv"]))
        result["host_metrics_iv"] = host_metrics["iv"]
    return result


def _host_woe_iv(
    ctx: ComponentContext, hosts: list[Party], y: np.ndarray, adjustment: float
) -> dict[str, Any]:
    key_bits = int((ctx.parameters.get("he_param") or {}).get("key_length", 1024))
    kind = str((ctx.parameters.get("he_param") or {}).get("kind", "paillier")).lower()
    if kind != "paillier":
        raise ComponentError(f"he_param.kind {kind!r} is not available here; use paillier")
    started = time.perf_counter()
    public, private = paillier.generate_keypair(key_bits)
    with CryptoWorkers(len(y), min_rows=PARALLEL_MIN_ROWS) as executor:
        encrypted = paillier.encrypt(public, y.astype(np.int64), executor=executor)
        ctx.log.info(
            "binning: generated a %d-bit key and encrypted %d labels in %.3fs",
            key_bits,
            len(y),
            time.perf_counter() - started,
        )
        key_bytes, label_bytes = public.to_bytes(), encrypted.to_bytes()
        for host in hosts:
            ctx.send(TAG_PUBLIC_KEY, host, key_bytes)
            ctx.send(TAG_LABELS, host, label_bytes)
        ctx.report_progress(50)
        events: dict[str, np.ndarray] = {}
        non_events: dict[str, np.ndarray] = {}
        for host in hosts:
            _receive_host_sums(ctx, host, public, private, executor, events, non_events)
    return binning.woe_iv(events, non_events, adjustment)


def _receive_host_sums(
    ctx: ComponentContext,
    host: Party,
    public: paillier.PublicKey,
    private: paillier.PrivateKey,
    executor: Any,
    events: dict[str, np.ndarray],
    non_events: dict[str, np.ndarray],
) -> None:
    arrays = decode_arrays(ctx.receive(TAG_HOST_SUMS, host))
    try:
        sums = paillier.EncryptedVector.from_bytes(public, arrays["sums"].tobytes())
        layout = PackingLayout(*(int(v) for v in arrays["layout"].tolist()))
        started = time.perf_counter()
        decrypted = paillier.decrypt_packed(private, sums, layout, executor=executor)
        ctx.log.info(
            "binning: decrypted %d packed ciphertexts (%d bin sums) from %s in %.3fs",
            len(sums),
            layout.count,
            host,
            time.perf_counter() - started,
        )
        ids = [str(i) for i in arrays["ids"].tolist()]
        counts = arrays["counts"].astype(np.int64)
        n_groups = int(arrays["n_groups"][0])
        sizes = arrays["sizes"].astype(np.int64)
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise ComponentError(f"binning: bad bin sums from {host}: {exc}") from None
    event_matrix = np.asarray(decrypted, dtype=np.int64).reshape(len(ids), n_groups)
    for j, anonymous in enumerate(ids):
        k = int(sizes[j])
        events[anonymous] = event_matrix[j, :k]
        non_events[anonymous] = counts[j, :k] - event_matrix[j, :k]


# -- the host's part -----------------------------------------------------------------------------------


def _host_protocol(
    ctx: ComponentContext, table: Table, columns: list[str], bins: np.ndarray, split_points: list[np.ndarray]
) -> None:
    guest = next((p for p in ctx.parties if p.role == "guest"), None)
    if guest is None:
        raise ComponentError("hetero_feature_binning needs a guest")
    try:
        public = paillier.PublicKey.from_bytes(ctx.receive(TAG_PUBLIC_KEY, guest))
        if public.key_bits < paillier.MIN_KEY_BITS:
            raise ValueError(
                f"the guest's key has {public.key_bits} bits, fewer than {paillier.MIN_KEY_BITS}"
            )
        labels = paillier.EncryptedVector.from_bytes(public, ctx.receive(TAG_LABELS, guest))
    except ValueError as exc:
        raise ComponentError(f"binning: bad key or labels from {guest}: {exc}") from None
    if len(labels) != len(table):
        raise ComponentError(
            f"binning: the guest sent {len(labels)} labels for {len(table)} rows here; run psi first so"
            " that rows are aligned"
        )
    sizes = _bins_with_missing(bins, split_points)
    n_groups = int(max(sizes, default=1))
    started = time.perf_counter()
    if not columns:
        raise ComponentError("hetero_feature_binning: no feature columns to bin at this host")
    sums = labels.sum_by_groups(bins, n_groups)
    slot_bits = max(len(table), 1).bit_length() + 1
    packed, layout = paillier.pack_ciphertexts(sums, slot_bits)
    ctx.log.info(
        "binning: %d bin sums packed into %d ciphertexts in %.3fs",
        len(sums),
        len(packed),
        time.perf_counter() - started,
    )
    counts = np.zeros((len(columns), n_groups), dtype=np.int64)
    for j in range(len(columns)):
        counts[j, : sizes[j]] = np.bincount(bins[:, j], minlength=sizes[j])[: sizes[j]]
    features = list(table.schema.feature_names)
    ids = [f"host_{ctx.party_id}_{features.index(c)}" for c in columns]
    payload: dict[str, np.ndarray] = {
        "sums": np.frombuffer(packed.to_bytes(), dtype=np.uint8),
        "layout": np.array(
            [layout.count, layout.slot_bits, layout.slots, layout.scale, layout.offset], dtype=np.int64
        ),
        "ids": np.array(ids, dtype=str),
        "counts": counts,
        "n_groups": np.array([n_groups], dtype=np.int64),
        "sizes": np.asarray(sizes, dtype=np.int64),
    }
    ctx.send(TAG_HOST_SUMS, guest, encode_arrays(payload))


# -- helpers -------------------------------------------------------------------------------------------


def _bins_with_missing(bins: np.ndarray, split_points: list[np.ndarray]) -> list[int]:
    """Bins per column, counting the missing bin only where values are missing (an empty missing bin
    would add a smoothed term to the IV)."""
    sizes = []
    for j, points in enumerate(split_points):
        has_missing = bool((bins[:, j] == len(points)).any()) if len(bins) else False
        sizes.append(len(points) + (1 if has_missing else 0))
    return sizes


def _per_column(result: dict[str, Any], columns: list[str]) -> dict[str, dict[str, Any]]:
    keys = ("event_count", "non_event_count", "event_rate", "non_event_rate", "woe", "iv_array")
    return {c: {**{k: result[k][c] for k in keys}, "iv": result["iv"][c]} for c in columns}


def _transformed(table: Table, model: dict[str, Any], transform: Any, role: str) -> Table:
    if not transform:
        return table
    if transform not in TRANSFORMS:
        raise ComponentError(f"transform_method must be one of {', '.join(TRANSFORMS)}")
    if transform == "woe" and role != "guest":
        return table  # hosts have no WOE (it would need labels); FATE leaves their data as is
    columns = list(model["bin_col"])
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        raise ComponentError(f"the data lacks the binned column(s) {missing}")
    points = [np.asarray(model["split_points"][c], dtype=np.float64) for c in columns]
    bins = binning.bin_indices(_matrix(table, columns), points)
    frame = table.frame.copy()
    if transform == "woe":
        woe = [model["metrics"][c]["woe"] for c in columns]
        frame[columns] = binning.transform_woe(bins, woe)
    else:
        frame[columns] = bins
    return replace(table, frame=frame)


def _own_split_points(
    params: dict[str, Any], features: list[str], role: str, party_id: str
) -> dict[str, Any] | None:
    """split_pt_dict by column name (anonymous names translated with use_anonymous); None when not set."""
    given = params.get("split_pt_dict")
    if not given:
        return None
    if not params.get("use_anonymous"):
        return dict(given)
    prefix = f"{role}_{party_id}_"
    own: dict[str, Any] = {}
    for name, points in given.items():
        position = name[len(prefix) :] if name.startswith(prefix) else ""
        if not position.isdigit() or int(position) >= len(features):
            raise ComponentError(
                f"split_pt_dict: {name!r} is not an anonymous column of {role} {party_id} "
                "(use_anonymous=true)"
            )
        own[features[int(position)]] = points
    return own


def _bin_columns(table: Table, params: dict[str, Any], role: str, party_id: str) -> list[str]:
    features = list(table.schema.feature_names)
    names = params.get("bin_col")
    if params.get("use_anonymous") and names is not None:
        prefix = f"{role}_{party_id}_"
        names = [features[int(str(n)[len(prefix) :])] for n in names if str(n).startswith(prefix)]
    if names is not None and params.get("bin_idx") is not None:
        raise ComponentError("bin_col and bin_idx cannot both be set (as in FATE); set one of them")
    chosen = _chosen(features, names, params.get("bin_idx"), "bin")
    return chosen if (names is not None or params.get("bin_idx") is not None) else features


def _chosen(features: list[str], names: Any, positions: Any, what: str) -> list[str]:
    picked: set[str] = set()
    for name in names or []:
        if name not in features:
            raise ComponentError(f"{what}_col names {name!r}, which is not a feature column here")
        picked.add(name)
    for position in positions or []:
        if not isinstance(position, int) or not 0 <= position < len(features):
            raise ComponentError(f"{what}_idx {position!r} is outside the {len(features)} feature columns")
        picked.add(features[position])
    return [f for f in features if f in picked]


def _matrix(table: Table, columns: list[str]) -> np.ndarray:
    try:
        return table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError("hetero_feature_binning needs numeric feature columns") from None


def _labels(table: Table, label: str) -> np.ndarray:
    y = table.frame[label].to_numpy(dtype=np.float64)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ComponentError(f"label column {label!r} must hold 0/1 for WOE/IV")
    return y
