"""What each party of feature_correlation receives, message by message (every message is recorded).

The host must receive only the guest's anonymous header, a public key, randomised ciphertexts under a key it
does not hold and the guest's share (the product plus the host's own masks); the guest only the host's
header, randomised ciphertexts of masked entries and the host's share (minus the masks). Unlike FATE's
Beaver step with a dealer, no party ever holds a value from which the other's standardised rows follow.
"""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.components import feature_correlation
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.feature_correlation import protocol
from fate_grpc.crypto import cross_product, paillier
from fate_grpc.ml import correlation
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST, breast_tables

HOST_RECEIVES = [
    protocol.TAG_SETUP,
    protocol.TAG_PUBLIC_KEY,
    protocol.rows_tag(0),
    protocol.TAG_SHARE,
]  # 569 rows: one block
GUEST_RECEIVES = [protocol.TAG_SETUP, protocol.TAG_PRODUCTS, protocol.TAG_SHARE]


@pytest.fixture(scope="module")
def recorded():
    keys: list[tuple[paillier.PublicKey, paillier.PrivateKey]] = []
    original = paillier.generate_keypair

    def recording(key_bits: int = 1024) -> tuple[paillier.PublicKey, paillier.PrivateKey]:
        keys.append(original(key_bits))
        return keys[-1]

    tables = breast_tables()
    federation = LocalFederation(
        [GUEST, HOST], inputs={p: {"input_data": t} for p, t in tables.items()}, run_timeout_s=300
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol.paillier, "generate_keypair", recording)
        federation.run(feature_correlation.run)
    values = {p: t.frame[list(t.schema.feature_names)].to_numpy(dtype=np.float64) for p, t in tables.items()}
    return federation, values, keys[0]


def received(federation: LocalFederation, party) -> dict[str, dict[str, np.ndarray] | bytes]:
    other = HOST if party == GUEST else GUEST
    messages = federation.sent_between(other, party)
    return {
        m.tag: m.payload if m.tag == protocol.TAG_PUBLIC_KEY else decode_arrays(m.payload) for m in messages
    }


def exact_products(values) -> np.ndarray:
    encoded = {
        p: correlation.encode_fixed(correlation.standardise(v)).astype(object) for p, v in values.items()
    }
    return encoded[GUEST].T @ encoded[HOST]


def secrets_of(values: np.ndarray) -> list[bytes]:
    """Byte forms a leaked raw or standardised value would take (float64, and the 24-bit fixed point)."""
    standardised = correlation.standardise(values)
    sample = np.concatenate([values[:20].reshape(-1), standardised.values[:20].reshape(-1)])
    fixed = correlation.encode_fixed(standardised)[:20].reshape(-1)
    return [np.float64(v).tobytes() for v in sample] + [
        np.int64(v).tobytes() for v in fixed if abs(v) > 2**16
    ]


def assert_randomised(vectors: list[paillier.EncryptedVector]) -> None:
    ciphertexts = [int(c) for v in vectors for c in v.ciphertexts]
    n = int(vectors[0].public_key.n)
    # Without an obfuscator a ciphertext is g^m = 1 + m n, i.e. 1 modulo n, and readable by anyone.
    assert all(c % n != 1 for c in ciphertexts)
    assert len(set(ciphertexts)) == len(ciphertexts)


def vectors(public: paillier.PublicKey, data: np.ndarray) -> list[paillier.EncryptedVector]:
    return [paillier.EncryptedVector.from_bytes(public, row.tobytes()) for row in data]


def test_host_receives_a_header_a_key_randomised_ciphertexts_and_the_guests_share(recorded) -> None:
    federation, values, (public, _) = recorded
    messages = received(federation, HOST)
    layout = protocol.layout_for(public.key_bits, len(values[GUEST]))

    assert list(messages) == HOST_RECEIVES
    setup = messages[protocol.TAG_SETUP]
    assert set(setup) == {"local_only", "rows", "digest", "anonymous", "constant"}
    assert setup["anonymous"].tolist() == [f"guest_9999_{i}" for i in range(10)]
    assert messages[protocol.TAG_PUBLIC_KEY] == public.to_bytes()
    rows = vectors(public, messages[protocol.rows_tag(0)]["groups"])
    assert [len(v) for v in rows] == [569] * layout.groups(10)
    assert_randomised(rows)
    for payload in federation.sent_between(GUEST, HOST):
        for secret in secrets_of(values[GUEST]):
            assert secret not in payload.payload


def test_guest_receives_only_masked_entries_and_the_hosts_share(recorded) -> None:
    federation, values, (public, private) = recorded
    messages = received(federation, GUEST)
    layout = protocol.layout_for(public.key_bits, 569)

    assert list(messages) == GUEST_RECEIVES
    assert messages[protocol.TAG_SETUP]["anonymous"].tolist() == [f"host_10000_{j}" for j in range(20)]
    products = vectors(public, messages[protocol.TAG_PRODUCTS]["products"])
    assert_randomised(products)
    # All the guest can decrypt: one masked entry per (guest column, host column), 200 numbers, against
    # the 569 x 20 values of the host's matrix.
    decrypted = cross_product.decrypt_products(private, products, 10, layout)
    assert decrypted.shape == (10, 20)
    masks = -cross_product.shares_from_bytes(messages[protocol.TAG_SHARE]["share"], layout)
    exact = exact_products(values)
    assert ((decrypted - exact) == masks).all()
    assert all(0 <= m < 2**layout.mask_bits for m in masks.reshape(-1))
    assert max(int(abs(v)) for v in exact.reshape(-1)) < 2**layout.value_bits
    assert layout.mask_bits - layout.value_bits >= 40
    # Drawn from the whole range: the masks are not short (with probability 1 - 200 * 2^-24).
    assert min(int(m).bit_length() for m in masks.reshape(-1)) > layout.mask_bits - 24
    for payload in federation.sent_between(HOST, GUEST):
        for secret in secrets_of(values[HOST]):
            assert secret not in payload.payload


def test_the_hosts_view_of_the_guest_share_is_masked_until_it_is_opened(recorded) -> None:
    federation, values, (public, _) = recorded
    layout = protocol.layout_for(public.key_bits, 569)
    guest_share = cross_product.shares_from_bytes(
        received(federation, HOST)[protocol.TAG_SHARE]["share"], layout
    )
    host_share = cross_product.shares_from_bytes(
        received(federation, GUEST)[protocol.TAG_SHARE]["share"], layout
    )

    assert (correlation.open_shares(guest_share, host_share) == exact_products(values)).all()
    # Each share alone is dominated by the mask: far above any entry's bound.
    assert all(int(abs(v)).bit_length() > layout.value_bits + 16 for v in host_share.reshape(-1))
    assert all(int(abs(v)).bit_length() > layout.value_bits + 16 for v in guest_share.reshape(-1))
