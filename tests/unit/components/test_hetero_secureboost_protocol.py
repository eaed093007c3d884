"""What each role of hetero_secureboost receives, message by message (every message is recorded).

The host must receive only ciphertexts of g/h, row positions, the ids of its own winning splits and masked
tree shapes; the guest only per-candidate sums under anonymous ids, row counts and left/right answers,
never a host feature value or threshold.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.hetero_secureboost import guest as guest_role
from fate_grpc.crypto import gh_pack, paillier
from fate_grpc.crypto.fixedpoint import PackingLayout
from fate_grpc.crypto.gh_pack import GHCodec
from fate_grpc.ml.secureboost import binning
from tests.unit.components.breast import GUEST, HOST
from tests.unit.components.test_hetero_secureboost_helpers import output_model, run, small

ROWS = 150
HOST_MESSAGES = {"setup", "gh", "level", "won", "tree"}
GUEST_MESSAGES = {"hist", "left"}
MASKED_NODE_KEYS = {"nid", "sitename", "sample_num", "is_leaf", "split_id", "l", "r", "is_left_node",
                    "sibling_nodeid", "parent_nodeid"}  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tables):
    keys: list[tuple[paillier.PublicKey, paillier.PrivateKey]] = []
    original = paillier.generate_keypair

    def recording(key_bits: int = 1024) -> tuple[paillier.PublicKey, paillier.PrivateKey]:
        keys.append(original(key_bits))
        return keys[-1]

    rows = small(tables, ROWS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guest_role.paillier, "generate_keypair", recording)
        federation, _ = run(rows, {"num_trees": 2, "max_depth": 3})
    return federation, rows, keys[0]


def _decoded(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    arrays = decode_arrays(payload)
    return json.loads(arrays.pop("header").tobytes()), arrays


def test_host_receives_only_ciphertexts_positions_its_split_ids_and_masked_shapes(recorded) -> None:
    federation, _, (public_key, _) = recorded
    received = federation.sent_between(GUEST, HOST)

    assert {m.tag.split(".")[-1] for m in received} == HOST_MESSAGES
    for message in received:
        header, arrays = _decoded(message.payload)
        kind = message.tag.split(".")[-1]
        floats = [name for name, a in arrays.items() if a.dtype.kind == "f"]
        assert not floats, f"{message.tag} carries float arrays {floats}"
        if kind == "gh":
            assert set(arrays) == {"sampled", "vector_gh0"}
            vector = paillier.EncryptedVector.from_bytes(public_key, arrays["vector_gh0"].tobytes())
            assert len(vector) == ROWS
        if kind == "won":
            assert all(len(entry) == 2 for entry in header["won"])  # (node id, anonymous split id)
        if kind == "tree":
            assert all(set(node) == MASKED_NODE_KEYS for node in header["nodes"])
        if kind == "setup":
            assert arrays["public_key"].tobytes() == public_key.to_bytes()


def test_guest_receives_no_host_threshold_or_feature_value(recorded) -> None:
    federation, rows, _ = recorded
    host_model = output_model(federation, HOST).data
    thresholds = {n["bid"] for t in host_model["trees"] for n in t["nodes"] if n["bid"] is not None}
    host_values = rows[HOST].frame[list(rows[HOST].schema.feature_names)].to_numpy(dtype=np.float64)
    received = federation.sent_between(HOST, GUEST)

    assert thresholds
    assert {m.tag.split(".")[-1] for m in received} == GUEST_MESSAGES
    for message in received:
        for secret in [*thresholds, *host_values[:, :5].reshape(-1)[:200]]:
            assert np.float64(secret).tobytes() not in message.payload
        header, arrays = _decoded(message.payload)
        assert header == {}
        if message.tag.endswith(".hist"):  # anonymous candidates: encrypted sums and row counts only
            assert set(arrays) == {"vector_hist0", "counts", "sizes"}
        else:
            assert set(arrays) == {"left"} and arrays["left"].dtype == bool
    guest_nodes = [n for t in output_model(federation, GUEST).data["trees"] for n in t["nodes"]]
    assert all(n["fid"] is None and n["bid"] is None for n in guest_nodes if n["sitename"] == "host_10000")


def test_what_the_guest_decrypts_is_the_hosts_cumulative_sums_per_candidate(recorded) -> None:
    federation, rows, (_, private_key) = recorded
    first = next(m for m in federation.sent_between(HOST, GUEST) if m.tag.endswith("t0.l0.hist"))
    _, arrays = _decoded(first.payload)
    labels = rows[GUEST].frame["y"].to_numpy(dtype=np.float64)
    g, h = 0.5 - labels, np.full(ROWS, 0.25)  # binary:bce at the initial score 0
    codec = GHCodec.for_gradients(g, ROWS, regression=False)
    vector = paillier.EncryptedVector.from_bytes(private_key.public_key, arrays["vector_hist0"].tobytes())

    big_g, big_h = gh_pack.decrypt_histogram(
        private_key,
        [(vector, PackingLayout(len(arrays["counts"]), codec.slot_bits, 1023 // codec.slot_bits, 0, 0))],
        codec,
    )

    x = rows[HOST].frame[list(rows[HOST].schema.feature_names)].to_numpy(dtype=np.float64)
    points = binning.split_points(x, 32)
    n_bins = int(binning.bin_counts(points).max())
    bins = binning.bin_indices(x, points)
    plain_g, plain_h = gh_pack.integer_histogram(codec, g, h, bins, np.zeros(ROWS, dtype=np.int64), 1, n_bins)
    slots = (bins + np.arange(x.shape[1]) * n_bins).reshape(-1)
    counts = np.bincount(slots, minlength=x.shape[1] * n_bins)
    cumulative = []
    for f in range(x.shape[1]):
        for b in range(n_bins):
            left = int(counts[f * n_bins : f * n_bins + b + 1].sum())
            new_bin = b == 0 or counts[f * n_bins + b] > 0
            if 0 < left < ROWS and new_bin:  # only candidates that leave rows on both sides, once each
                cumulative.append(
                    (
                        sum(plain_g[f * n_bins : f * n_bins + b + 1]),
                        sum(plain_h[f * n_bins : f * n_bins + b + 1]),
                    )
                )
    # The same sums, in an order only the host knows.
    assert sorted(zip(big_g, big_h, strict=True)) == sorted(cumulative)
    assert list(zip(big_g, big_h, strict=True)) != cumulative  # shuffled: positions say nothing
