"""What the guest and the host of sshe_lr receive, message by message (every message is recorded).

Each party must receive only: ciphertexts under the other's key (randomised), values it can decrypt that are
masked over a range 2^40 times larger than the product (spread over the whole mask range whatever the
product), uniform ring shares, and the values FATE opens (the loss to the guest, each party's own weights at
the end, the host's plaintext X_h w_h at prediction time). Neither can rebuild the other's weights or data.
"""

from __future__ import annotations

from typing import Any

import pytest

from fate_grpc.components import sshe_lr
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.sshe_lr import secure
from fate_grpc.crypto import paillier, sshe_products
from fate_grpc.crypto.paillier_pool import from_fixed_bytes
from fate_grpc.ml.sshe import ring
from tests.unit.components.breast import GUEST, HOST
from tests.unit.components.sshe import federation, small

ROWS = 120
BATCH = 60
PARAMS = {"epochs": 2, "batch_size": BATCH, "learning_rate": 0.15, "init_param": {"method": "random_uniform"}}
ARRAYS_TO_HOST = {"rows", "label_count", "plan", "weight_count", "converge_flag"}
ARRAYS_TO_GUEST = {"weight_count", "host_forward"}
OWN_KEY = {"weights", "residual"}  # encrypted by the sender under its own key
PEER_KEY = {"forward", "gradient", "cross"}  # masked results under the receiver's key
COLUMNS = {GUEST: 11, HOST: 20}  # the guest's 10 features and its intercept; the host's 20
MASK_BITS = {
    "gradient": sshe_products.mask_bits(sshe_products.transpose_bound(BATCH)),
    "cross": sshe_products.mask_bits(sshe_products.inner_bound(BATCH)),
}


@pytest.fixture(scope="module")
def recorded(tables) -> tuple[Any, dict[int, paillier.PrivateKey]]:
    keys: dict[int, paillier.PrivateKey] = {}
    original = paillier.generate_keypair

    def recording(key_bits: int = 1024) -> tuple[paillier.PublicKey, paillier.PrivateKey]:
        public, private = original(key_bits)
        keys[int(public.n)] = private
        return public, private

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secure.paillier, "generate_keypair", recording)
        fed = federation(small(tables, ROWS), PARAMS)
        fed.run(sshe_lr.run_lr)
    return fed, keys


def _name(tag: str) -> str:
    return tag.rsplit(".", 1)[-1]


def _public_key(fed: Any, sender: Any) -> paillier.PublicKey:
    (message,) = [m for m in fed.sent if m.source == sender and _name(m.tag) == "public_key"]
    return paillier.PublicKey.from_bytes(message.payload)


def _check_received(fed: Any, keys: dict[int, paillier.PrivateKey], sender: Any, receiver: Any) -> set[str]:
    sender_key, receiver_key = _public_key(fed, sender), _public_key(fed, receiver)
    names = set()
    for message in fed.sent_between(sender, receiver):
        name = _name(message.tag)
        names.add(name)
        if name in OWN_KEY:
            _check_own_key_ciphertexts(sender_key, keys[int(sender_key.n)], message.payload)
        elif name in PEER_KEY:
            columns = COLUMNS[sender] if name == "forward" else None
            _check_masked(receiver_key, keys[int(receiver_key.n)], message.payload, name, columns)
    return names


def _unrandomised(public_key: paillier.PublicKey, c: int) -> bool:
    return (c - 1) % int(public_key.n) == 0


def _check_own_key_ciphertexts(
    public_key: paillier.PublicKey, private_key: paillier.PrivateKey, data: bytes
) -> None:
    ciphertexts = from_fixed_bytes(data, public_key.width)
    assert not any(_unrandomised(public_key, int(c)) for c in ciphertexts)
    values = paillier.decrypt_residues(private_key, paillier.EncryptedVector(public_key, ciphertexts, 0))
    assert all(v < ring.MODULUS for v in values)  # the sender's own ring shares, under its own key


def _check_masked(
    public_key: paillier.PublicKey,
    private_key: paillier.PrivateKey,
    data: bytes,
    name: str,
    columns: int | None,
) -> None:
    ciphertexts = from_fixed_bytes(data, public_key.width)
    assert not any(_unrandomised(public_key, int(c)) for c in ciphertexts)
    n = int(public_key.n)
    residues = paillier.decrypt_residues(private_key, paillier.EncryptedVector(public_key, ciphertexts, 0))
    values = [m - n if m > n // 2 else m for m in residues]
    bits = (
        MASK_BITS[name] if columns is None else sshe_products.mask_bits(sshe_products.matvec_bound(columns))
    )
    if columns is not None:  # forward values: several rows per plaintext, each slot offset to be non-negative
        layout = sshe_products.matvec_layout(public_key, columns)
        slot = (1 << layout.slot_bits) - 1
        values = [
            ((m >> (layout.slot_bits * k)) & slot) - layout.offset
            for m in residues
            for k in range(layout.slots)
        ]
        values = values[:BATCH]  # the last ciphertext's unused slots hold zeros
    for value in values:
        # What the receiver decrypts is spread over the whole mask range: its top 30 bits are uniform.
        assert bits - 30 <= value.bit_length() <= bits + 1


def test_host_receives_ciphertexts_masked_values_and_shares_only(recorded) -> None:
    fed, keys = recorded
    names = _check_received(fed, keys, GUEST, HOST)
    # The guest has fewer columns (11 against 20): it computes the loss's cross term, the host decrypts it.
    assert names == ARRAYS_TO_HOST | OWN_KEY | PEER_KEY | {
        "public_key",
        "initial_share",
        "weights_open",
    }
    for message in fed.sent_between(GUEST, HOST):
        if _name(message.tag) in ARRAYS_TO_HOST:
            arrays = decode_arrays(message.payload)
            assert all(a.dtype.kind in "iub" for a in arrays.values()), message.tag  # no label, no float


def test_guest_receives_ciphertexts_masked_values_shares_and_the_opened_loss(recorded) -> None:
    fed, keys = recorded
    names = _check_received(fed, keys, HOST, GUEST)
    assert names == ARRAYS_TO_GUEST | OWN_KEY | PEER_KEY - {"cross"} | {
        "public_key",
        "initial_share",
        "weights_open",
        "square_sum",
    }
    squares = [m for m in fed.sent_between(HOST, GUEST) if _name(m.tag) == "square_sum"]
    assert len(squares) == 2 * 2  # one per batch of every loss epoch
    forwards = [m.tag for m in fed.sent_between(HOST, GUEST) if _name(m.tag) == "host_forward"]
    assert forwards and all(".predict_" in tag for tag in forwards)  # plaintext only when predicting


def test_weights_are_opened_once_to_their_owner_only(recorded) -> None:
    fed, _ = recorded
    for sender, receiver in ((GUEST, HOST), (HOST, GUEST)):
        opened = [m.tag for m in fed.sent_between(sender, receiver) if _name(m.tag) == "weights_open"]
        assert opened == ["sshe_lr.train.final.weights_open"]


def test_initial_shares_are_uniform_ring_elements(recorded) -> None:
    fed, _ = recorded
    for sender, receiver in ((GUEST, HOST), (HOST, GUEST)):
        (message,) = [m for m in fed.sent_between(sender, receiver) if _name(m.tag) == "initial_share"]
        values = [
            int.from_bytes(message.payload[i : i + 16], "big") for i in range(0, len(message.payload), 16)
        ]
        # random_uniform weights lie in [0, 1): unshared they would be below 2^32 after encoding.
        assert max(values) > 2**120


def test_weight_diff_opens_each_partys_weights_to_it_every_epoch_as_fate(tables) -> None:
    fed = federation(
        small(tables, 60), {**PARAMS, "batch_size": None, "early_stop": "weight_diff", "tol": 0.0}
    )
    fed.run(sshe_lr.run_lr)
    scopes = ["open_init", "e0.open", "e1.open", "final"]
    for sender, receiver in ((GUEST, HOST), (HOST, GUEST)):
        opened = [m.tag for m in fed.sent_between(sender, receiver) if _name(m.tag) == "weights_open"]
        assert opened == [f"sshe_lr.train.{scope}.weights_open" for scope in scopes]
    changes = [m for m in fed.sent_between(HOST, GUEST) if _name(m.tag) == "weight_change"]
    assert len(changes) == 2 and not [
        m for m in fed.sent_between(GUEST, HOST) if _name(m.tag) == "weight_change"
    ]
