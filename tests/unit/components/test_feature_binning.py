"""hetero_feature_binning at a guest and a host: IV/WOE against a plaintext computation on the joined
data, and the host's traffic checked to carry ciphertexts only."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.components import feature_binning
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import Party
from fate_grpc.components.table import Table
from fate_grpc.crypto import paillier
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


@pytest.fixture(scope="module")
def trained(tables: dict[Party, Table]) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        common_parameters={"method": "quantile", "n_bins": 10, "transform_method": "bin_idx"},
        parameters={GUEST: {"transform_method": "woe"}},
        stage="train",
        run_timeout_s=300,
    )
    federation.run(feature_binning.run)
    return federation


def plaintext_woe_iv(values: np.ndarray, y: np.ndarray, edges: list[float]) -> tuple[list[float], float]:
    """WOE per bin and IV of one column, computed row by row as a reader of the formula would."""
    edges_arr = np.asarray(edges)
    bins = np.minimum(np.searchsorted(edges_arr, values, side="left"), len(edges) - 1)
    total_events, total_non_events = y.sum(), len(y) - y.sum()
    woe, iv = [], 0.0
    for b in range(len(edges)):
        events = float(y[bins == b].sum())
        non_events = float((bins == b).sum()) - events
        # FATE 2.2: a zero count's rate is adjustment_factor (0.5) itself.
        event_rate = 0.5 if events == 0 else events / total_events
        non_event_rate = 0.5 if non_events == 0 else non_events / total_non_events
        w = float(np.log(event_rate / non_event_rate))
        woe.append(w)
        iv += (event_rate - non_event_rate) * w
    return woe, iv


def test_host_iv_and_woe_equal_the_plaintext_values(
    tables: dict[Party, Table], trained: LocalFederation
) -> None:
    guest_model = trained.contexts[GUEST].models["output_model"].data
    host_model = trained.contexts[HOST].models["output_model"].data
    y = tables[GUEST].frame["y"].to_numpy(dtype=float)
    host_frame = tables[HOST].frame
    assert set(guest_model["host_metrics"]) == {f"host_10000_{i}" for i in range(20)}
    for anonymous, column in host_model["anonymous"].items():
        woe, iv = plaintext_woe_iv(host_frame[column].to_numpy(), y, host_model["split_points"][column])
        got = guest_model["host_metrics"][anonymous]
        assert got["iv"] == pytest.approx(iv, abs=1e-6)
        np.testing.assert_allclose(got["woe"], woe, atol=1e-6)
    for column in [f"x{i}" for i in range(10)]:
        woe, iv = plaintext_woe_iv(
            tables[GUEST].frame[column].to_numpy(), y, guest_model["split_points"][column]
        )
        assert guest_model["metrics"][column]["iv"] == pytest.approx(iv, abs=1e-9)


def test_split_points_are_quantiles_of_each_partys_own_columns(
    tables: dict[Party, Table], trained: LocalFederation
) -> None:
    host_model = trained.contexts[HOST].models["output_model"].data
    values = np.sort(tables[HOST].frame["x0"].to_numpy())
    expected = [values[int(np.ceil(i * len(values) / 10)) - 1] for i in range(1, 11)]
    assert host_model["split_points"]["x0"] == pytest.approx(sorted(set(expected)))
    assert "metrics" not in host_model and "host_metrics" not in host_model


def test_the_host_receives_ciphertexts_only(tables: dict[Party, Table], trained: LocalFederation) -> None:
    to_host = trained.sent_between(GUEST, HOST)
    assert [m.tag for m in to_host] == [feature_binning.TAG_PUBLIC_KEY, feature_binning.TAG_LABELS]
    public = paillier.PublicKey.from_bytes(to_host[0].payload)
    assert public.key_bits >= 1024
    labels = paillier.EncryptedVector.from_bytes(public, to_host[1].payload)
    ciphertexts = [int(c) for c in labels.ciphertexts]
    assert len(ciphertexts) == len(tables[GUEST])
    # 569 encryptions of only two values, all distinct: randomised, nothing to tell a 0 from a 1 ...
    assert len(set(ciphertexts)) == len(ciphertexts)
    # ... and none is the unobfuscated encryption g^y = 1 + y*n.
    n, n2 = int(public.n), int(public.n) ** 2
    assert not {1, (1 + n) % n2} & set(ciphertexts)
    # The label bytes never appear in the clear in anything the host got.
    y_bytes = tables[GUEST].frame["y"].to_numpy(dtype=np.int64).tobytes()
    assert all(y_bytes not in m.payload for m in to_host)


def test_the_guest_receives_sums_under_anonymous_ids_only(trained: LocalFederation) -> None:
    (message,) = trained.sent_between(HOST, GUEST)
    arrays = decode_arrays(message.payload)
    assert set(arrays) == {"sums", "layout", "ids", "counts", "n_groups", "sizes"}
    assert all(str(i).startswith("host_10000_") for i in arrays["ids"].tolist())
    # Packing: 20 features x 10 bins of counts in far fewer ciphertexts.
    count, slot_bits, slots, _, _ = arrays["layout"].tolist()
    assert count == 200 and slots > 1 and slot_bits == (569).bit_length() + 1


def test_transforms_and_predict_reproduce_them(tables: dict[Party, Table], trained: LocalFederation) -> None:
    guest_out = trained.contexts[GUEST].outputs["train_output_data"].frame
    host_out = trained.contexts[HOST].outputs["train_output_data"].frame
    woe_x0 = trained.contexts[GUEST].models["output_model"].data["metrics"]["x0"]["woe"]
    assert set(np.round(guest_out["x0"], 12)) <= set(np.round(woe_x0, 12))
    assert host_out["x3"].between(0, 9).all() and host_out["x3"].dtype.kind in "iu"
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"test_data": t} for p, t in tables.items()},
        models={p: {"input_model": trained.contexts[p].models["output_model"]} for p in tables},
        stage="predict",
    )
    predicted = federation.run(feature_binning.run)
    assert predicted[HOST]["test_output_data"].frame.equals(host_out)
    np.testing.assert_allclose(
        predicted[GUEST]["test_output_data"].frame["x5"].to_numpy(), guest_out["x5"].to_numpy()
    )
    assert federation.sent == []  # predict needs no communication
