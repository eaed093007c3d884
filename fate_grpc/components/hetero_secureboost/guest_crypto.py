"""The guest's cryptographic side of hetero_secureboost: its key pair and how it encrypts (``Keys``), and a
host's split candidates as the guest sees them (``HostSplits``): decrypted cumulative sums under anonymous
split ids, turned into each node's best candidate with FATE's gain."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.hetero_secureboost import timing
from fate_grpc.components.hetero_secureboost.messages import Channel, sitename
from fate_grpc.components.hetero_secureboost.workers import ObfuscatorPrefill
from fate_grpc.crypto import gh_pack, ou, paillier
from fate_grpc.crypto.fixedpoint import PackingLayout, slots_per_plaintext
from fate_grpc.crypto.gh_pack import GHCodec
from fate_grpc.ml.secureboost.splitter import best_splits
from fate_grpc.ml.secureboost.tree import Candidate, TreeBuilder


@dataclass(frozen=True)
class Keys:
    """The guest's key pair and how it encrypts: OU forces g/h packing and cannot fold several bins into
    one ciphertext (as in FATE); Paillier obfuscators are computed ahead while the guest waits."""

    public_key: paillier.PublicKey
    private_key: paillier.PrivateKey | ou.OUPrivateKey
    executor: Executor | None
    prefill: ObfuscatorPrefill | None
    gh_pack: bool
    split_info_pack: bool

    @classmethod
    def of(
        cls,
        params: dict[str, Any],
        public_key: paillier.PublicKey,
        private_key: paillier.PrivateKey | ou.OUPrivateKey,
        executor: Executor | None,
    ) -> Keys:
        if isinstance(public_key, ou.OUPublicKey):
            return cls(public_key, private_key, executor, None, gh_pack=True, split_info_pack=False)
        prefill = ObfuscatorPrefill(public_key, executor)
        return cls(public_key, private_key, executor, prefill, params["gh_pack"], params["split_info_pack"])


@dataclass
class HostSplits:
    """A host's candidates at the guest: decrypted sums under anonymous split ids."""

    channel: Channel
    host: Party
    codec: GHCodec
    keys: Keys

    @property
    def site(self) -> str:
        return sitename(self.host)

    def _layout(self, count: int) -> PackingLayout | None:
        """How the host packed ``count`` entries: the guest's own settings decide, not the host's word."""
        if not self.keys.split_info_pack:
            return None
        slot_bits = self.codec.slot_bits
        slots = slots_per_plaintext(int(self.keys.public_key.n), slot_bits)
        return PackingLayout(count=count, slot_bits=slot_bits, slots=slots, scale=0, offset=0)

    def level_best(self, builder: TreeBuilder, level: str) -> list[Candidate | None]:
        message = self.channel.receive(f"{level}.hist", self.host)
        counts = message.array("counts").astype(np.int64)
        sizes = message.array("sizes").astype(np.int64)
        nodes = len(builder.level)
        if sizes.shape != (nodes,) or int(sizes.sum()) != len(counts) or (sizes < 0).any():
            raise ComponentError(f"hetero_secureboost: {self.host} sent histograms of the wrong shape")
        channels = [
            (message.vector(f"hist{c}", self.keys.public_key), self._layout(len(counts)))
            for c in range(self.codec.channels)
        ]
        with timing.measure("decrypt"):
            try:
                big_g, big_h = gh_pack.decrypt_histogram(
                    self.keys.private_key, channels, self.codec, executor=self.keys.executor
                )
            except (ValueError, OverflowError) as error:
                raise ComponentError(
                    f"hetero_secureboost: {self.host} sent bad histograms ({error})"
                ) from None
        if len(big_g) != len(counts):
            raise ComponentError(
                f"hetero_secureboost: {self.host} sent {len(big_g)} sums for {len(counts)} counts"
            )
        with timing.measure("split"):
            g, h = self.codec.to_floats(big_g, big_h, counts)
            left_g, left_h, left_count = rectangular(sizes, g, h, counts)
            best = best_splits(left_g, left_h, left_count, *builder.totals(), builder.params)
        out: list[Candidate | None] = []
        for i in range(nodes):
            if not np.isfinite(best.gain[i]):
                out.append(None)
                continue
            out.append(
                Candidate(
                    self.site,
                    float(best.gain[i]),
                    float(best.left_g[i]),
                    float(best.left_h[i]),
                    int(best.left_count[i]),
                    split_id=int(best.index[i]),
                )
            )
        return out


def rectangular(
    sizes: np.ndarray, g: np.ndarray, h: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-node candidate lists as ``(nodes, longest)`` arrays; padding has no rows (always refused)."""
    width = max(1, int(sizes.max(initial=0)))
    out_g, out_h = np.zeros((len(sizes), width)), np.zeros((len(sizes), width))
    out_count = np.zeros((len(sizes), width), dtype=np.int64)
    start = 0
    for k, size in enumerate(sizes.tolist()):
        out_g[k, :size], out_h[k, :size] = g[start : start + size], h[start : start + size]
        out_count[k, :size] = counts[start : start + size]
        start += size
    return out_g, out_h, out_count
