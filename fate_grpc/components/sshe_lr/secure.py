"""The two-party steps of SSHE training, run the same way by the guest and the host (each with its own
Paillier key pair; the guest is party 0 of the truncation).

Weights: each party's weights (the guest's with the intercept last) are additively shared; a party holds
its share of its own weights and its share of its peer's. Per batch, on shares of 128-bit fixed point
(``fate_grpc.ml.sshe.ring``):

* forward ``s = X_G w_G + X_H w_H``: each party encrypts its share of the peer's weights under its own key
  and sends it; the peer multiplies by its encoded features, masks and sends back (``masked_matvec``);
  each party adds its local ``X <own share of own weights>`` and truncates;
* residual ``dz = s/4 + 1/2 - y`` (lr, FATE's first-order sigmoid) or ``s - y`` (linr): the guest's share
  takes the public constant and its labels, the host's share is only scaled;
* gradient ``X_P^T dz`` for each party P: each encrypts its share of dz under its own key, the peer computes
  ``X^T [[dz share]]`` masked (``masked_transpose_matvec``); update ``w -= learning_rate/rows * gradient``;
* on loss epochs the party with fewer feature columns also computes the masked inner product of its dz
  share with the other's encrypted one (received for the gradient), the other decrypts it, and the host
  sends the guest its share of ``sum dz^2``, which the guest opens.

What a party learns from its peer: ciphertexts under the peer's key (randomised: semantically secure),
values ``D + r`` with r uniform on a range 2^40 times larger than ``|D|`` (statistically independent of D),
uniform ring elements (the peer's share of the initial weights). So neither learns anything about the
other's features, weights, labels or residuals, except what is opened: ``sum dz^2`` per batch to the guest
on loss epochs (the loss FATE reveals), the weights to their owners at the end (and after every epoch with
``early_stop: weight_diff``, with the norm of the host's weight change sent to the guest, as FATE).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from fate_grpc.components.sshe_lr import timing
from fate_grpc.components.sshe_lr.channel import Channel
from fate_grpc.crypto import paillier, sshe_products
from fate_grpc.ml.sshe import ring
from fate_grpc.ml.sshe.ring import FEATURE_BITS, FRACTION_BITS, Shares


@dataclass(frozen=True)
class Keys:
    """This party's key pair and the peer's public key."""

    public: paillier.PublicKey
    private: paillier.PrivateKey
    peer: paillier.PublicKey

    @classmethod
    def exchange(cls, channel: Channel, key_bits: int) -> Keys:
        with timing.measure("encrypt"):
            public, private = paillier.generate_keypair(key_bits)
        channel.send_public_key(public)
        return cls(public, private, channel.receive_public_key())


@dataclass
class SharedWeights:
    """This party's shares: of its own weights (``own``) and of its peer's (``peer``)."""

    own: Shares
    peer: Shares


@dataclass(frozen=True)
class SecureParty:
    """One party of the protocol: its keys, its worker pool and whether it is party 0 (the guest)."""

    keys: Keys
    executor: Executor | None
    first: bool

    def share_weights(
        self, channel: Channel, weights: npt.NDArray[np.float64], peer_count: int
    ) -> SharedWeights:
        """Split this party's plaintext initial weights; the peer gets a uniform share, and sends one back."""
        with timing.measure("shares"):
            own, theirs = ring.split(ring.encode(weights.reshape(-1)))
        channel.send_ring("initial_share", theirs)
        return SharedWeights(own, channel.receive_ring("initial_share", peer_count))

    def forward(self, channel: Channel, matrix: npt.NDArray[np.int64], weights: SharedWeights) -> Shares:
        """This party's share of ``s = X_G w_G + X_H w_H`` for the batch's rows (FRACTION_BITS)."""
        keys, rows = self.keys, matrix.shape[0]
        with timing.measure("encrypt"):
            mine = sshe_products.encrypt_shares(keys.public, weights.peer, executor=self.executor)
        channel.send_ciphertexts("weights", keys.public, mine)
        theirs = channel.receive_ciphertexts("weights", keys.peer, matrix.shape[1])
        with timing.measure("homomorphic"):
            masked, mask_share = sshe_products.masked_matvec(
                keys.peer, theirs, matrix, executor=self.executor
            )
        channel.send_ciphertexts("forward", keys.peer, masked)
        packed = sshe_products.matvec_layout(keys.public, len(weights.peer)).packed_count(rows)
        received = channel.receive_ciphertexts("forward", keys.public, packed)
        with timing.measure("decrypt"):
            decrypted = sshe_products.decrypt_matvec_to_shares(
                keys.private, received, rows, len(weights.peer), executor=self.executor
            )
        with timing.measure("shares"):
            total = ring.add(ring.add(ring.matvec(matrix, weights.own), mask_share), decrypted)
            return ring.truncate(total, FEATURE_BITS, first=self.first)

    def gradient(
        self, channel: Channel, matrix: npt.NDArray[np.int64], dz: Shares, peer_columns: int
    ) -> Gradient:
        """Shares of ``X_own^T dz`` and ``X_peer^T dz`` (FRACTION_BITS), and the peer's encrypted dz share."""
        keys = self.keys
        with timing.measure("encrypt"):
            mine = sshe_products.encrypt_shares(keys.public, dz, executor=self.executor)
        channel.send_ciphertexts("residual", keys.public, mine)
        theirs = channel.receive_ciphertexts("residual", keys.peer, len(dz))
        with timing.measure("homomorphic"):
            masked, mask_share = sshe_products.masked_transpose_matvec(
                keys.peer, theirs, matrix, executor=self.executor
            )
        channel.send_ciphertexts("gradient", keys.peer, masked)
        received = channel.receive_ciphertexts("gradient", keys.public, peer_columns)
        with timing.measure("decrypt"):
            decrypted = sshe_products.decrypt_to_shares(keys.private, received, executor=self.executor)
        with timing.measure("shares"):
            own = ring.add(ring.transpose_matvec(matrix, dz), mask_share)
            return Gradient(
                own=ring.truncate(own, FEATURE_BITS, first=self.first),
                peer=ring.truncate(decrypted, FEATURE_BITS, first=self.first),
                peer_residual=theirs,
            )

    def update(self, weights: SharedWeights, gradient: Gradient, factor: float) -> None:
        """``w -= factor * gradient`` on both of this party's weight shares."""
        with timing.measure("shares"):
            weights.own = ring.sub(weights.own, ring.multiply_public(gradient.own, factor, first=self.first))
            weights.peer = ring.sub(
                weights.peer, ring.multiply_public(gradient.peer, factor, first=self.first)
            )

    def square_sum(
        self, channel: Channel, dz: Shares, gradient: Gradient, *, computes_cross: bool
    ) -> float | None:
        """``sum dz^2`` of the batch, opened to the guest only (the host returns None).

        The cross term ``a . b`` of the two dz shares is a masked inner product over the peer's encrypted dz
        share each party already holds from the gradient step; the party with fewer feature columns (less
        homomorphic work per batch) computes it, the other decrypts it. The host then sends the guest its
        share of ``sum dz^2``.
        """
        keys = self.keys
        if computes_cross:
            with timing.measure("homomorphic"):
                masked, mask_share = sshe_products.masked_inner_product(
                    keys.peer, gradient.peer_residual, dz, executor=self.executor
                )
            channel.send_ciphertexts("cross", keys.peer, masked)
            cross = int(mask_share[0])
        else:
            received = channel.receive_ciphertexts("cross", keys.public, 1)
            with timing.measure("decrypt"):
                cross = int(sshe_products.decrypt_to_shares(keys.private, received)[0])
        with timing.measure("shares"):
            own = (ring.dot(dz, dz) + 2 * cross) % ring.MODULUS
        if not self.first:
            channel.send_ring("square_sum", np.array([own], dtype=object))
            return None
        theirs = int(channel.receive_ring("square_sum", 1)[0])
        return ring.signed(own + theirs) / 2.0 ** (2 * FRACTION_BITS)

    def open_to_owners(self, channel: Channel, weights: SharedWeights) -> npt.NDArray[np.float64]:
        """Each party's weights opened to it alone: send the share of the peer's, receive the peer's share of
        one's own."""
        channel.send_ring("weights_open", weights.peer)
        theirs = channel.receive_ring("weights_open", len(weights.own))
        return ring.reconstruct(weights.own, theirs)


@dataclass(frozen=True)
class Gradient:
    own: Shares
    peer: Shares
    peer_residual: list[mpz]  # the peer's encrypted dz share (under the peer's key), for the loss
