"""Okamoto-Uchiyama additively homomorphic encryption, FATE's ``he_param.kind: ou``.

Keys: primes p and q of ``key_bits / 3`` bits, ``n = p^2 q``, a base g whose ``g^(p-1) mod p^2`` has order
p, and ``h = g^n mod n``. ``Enc(m) = g^m h^r mod n`` for a plaintext ``0 <= m < p`` and a fresh random r;
``Dec(c) = L(c^(p-1) mod p^2) / L(g^(p-1) mod p^2) mod p`` with ``L(x) = (x - 1) / p``. Ciphertexts
multiply to add plaintexts, so homomorphic sums are products mod n, as with Paillier mod n^2.

The public key subclasses Paillier's so that ``paillier.EncryptedVector`` (sums, sums by group, take,
re-randomising, serialisation) works unchanged: its ``n2`` attribute is the ciphertext modulus, which for
OU is n itself. Plaintexts must stay non-negative and below p (no negative encoding), which suits
SecureBoost's offset g/h sums; FATE likewise forces g/h packing and disables split-info packing for OU.

Speed: ``h^r`` comes from a fixed-base table (one multiplication per byte of a random exponent of half
the key size), like the Paillier obfuscators of ``paillier_pool``.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Sequence

import gmpy2
import numpy as np
from gmpy2 import mpz

from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier_pool import MIN_KEY_BITS, WINDOW_BITS

_KEY_MAGIC = b"OUK1"
_KEY_HEADER = struct.Struct(">4sHHH")  # magic, byte lengths of n, g and h
_PRIME_TEST_ROUNDS = 40


class OUPublicKey(paillier.PublicKey):
    """``(n, g, h)``; ``n2`` is the ciphertext modulus (n for OU), ``width`` the bytes of a ciphertext."""

    __slots__ = ("_table", "g", "h")

    def __init__(self, n: int, g: int, h: int) -> None:
        super().__init__(n)
        self.n2 = self.n  # ciphertexts live mod n
        self.width = (int(self.n).bit_length() + 7) // 8
        self.g, self.h = mpz(g), mpz(h)
        self._table: list[list[mpz]] | None = None

    def plaintext_bits(self) -> int:
        """Plaintexts must stay below p, which has a third of n's bits."""
        return int(self.n).bit_length() // 3 - 1

    def obfuscators(self, count: int) -> list[mpz]:
        """``count`` fresh ``h^r mod n`` (encryptions of zero)."""
        table = self._fixed_base()
        size = len(table)
        noise = os.urandom(count * size)
        n = self.n
        out = []
        for start in range(0, count * size, size):
            acc = mpz(1)
            for row, digit in zip(table, noise[start : start + size], strict=True):
                if digit:
                    acc = acc * row[digit] % n
            out.append(acc)
        return out

    def encrypt_int(self, m: int) -> mpz:
        return self.encrypt_ints([m])[0]

    def encrypt_ints(self, plaintexts: Sequence[int]) -> list[mpz]:
        """``g^m h^r mod n`` per plaintext ``0 <= m < 2^plaintext_bits``.

        Raises:
            ValueError: A plaintext is negative or too large.
        """
        limit = 1 << self.plaintext_bits()
        if any(not 0 <= int(m) < limit for m in plaintexts):
            raise ValueError(f"OU plaintexts must lie in [0, 2^{self.plaintext_bits()})")
        n, g = self.n, self.g
        noise = self.obfuscators(len(plaintexts))
        with gmpy2.context(gmpy2.get_context(), allow_release_gil=True):
            return [gmpy2.powmod(g, int(m), n) * r % n for m, r in zip(plaintexts, noise, strict=True)]

    def to_bytes(self) -> bytes:
        parts = [v.to_bytes((int(v).bit_length() + 7) // 8, "big") for v in (self.n, self.g, self.h)]
        return _KEY_HEADER.pack(_KEY_MAGIC, *(len(p) for p in parts)) + b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> OUPublicKey:  # type: ignore[override]
        """Parse ``to_bytes`` output; ValueError on anything malformed."""
        if len(data) < _KEY_HEADER.size:
            raise ValueError("OU public key bytes too short")
        magic, *sizes = _KEY_HEADER.unpack_from(data)
        if magic != _KEY_MAGIC or len(data) != _KEY_HEADER.size + sum(sizes):
            raise ValueError("not an OU public key")
        values, offset = [], _KEY_HEADER.size
        for size in sizes:
            values.append(mpz.from_bytes(data[offset : offset + size], "big"))
            offset += size
        n, g, h = values
        if not (1 < g < n and 1 < h < n):
            raise ValueError("OU public key values out of range")
        return cls(n, g, h)

    def _fixed_base(self) -> list[list[mpz]]:
        if self._table is None:
            rows, base, n = [], self.h, self.n
            for _ in range(int(n).bit_length() // 2 // WINDOW_BITS):
                row = [mpz(1), base]
                for _ in range(2, 1 << WINDOW_BITS):
                    row.append(row[-1] * base % n)
                rows.append(row)
                base = row[-1] * base % n
            self._table = rows
        return self._table

    def __repr__(self) -> str:
        return f"OUPublicKey({self.key_bits} bits)"


class OUPrivateKey:
    """The prime p (and the key it opens)."""

    __slots__ = ("_g_inverse", "p", "p2", "public_key")

    def __init__(self, public_key: OUPublicKey, p: int) -> None:
        self.public_key = public_key
        self.p, self.p2 = mpz(p), mpz(p) * mpz(p)
        self._g_inverse = gmpy2.invert(self._log(gmpy2.powmod(public_key.g, self.p - 1, self.p2)), self.p)

    def decrypt_int(self, c: mpz) -> mpz:
        return self._log(gmpy2.powmod(c, self.p - 1, self.p2)) * self._g_inverse % self.p

    def decrypt_ints(self, ciphertexts: Sequence[mpz]) -> list[mpz]:
        with gmpy2.context(gmpy2.get_context(), allow_release_gil=True):
            return [self.decrypt_int(c) for c in ciphertexts]

    def _log(self, x: mpz) -> mpz:
        return (x - 1) // self.p

    def __repr__(self) -> str:
        return f"OUPrivateKey({self.public_key!r})"


def generate_keypair(key_bits: int = 1024) -> tuple[OUPublicKey, OUPrivateKey]:
    """A fresh key pair with n of exactly ``key_bits`` bits.

    Raises:
        ValueError: ``key_bits`` below 1024.
    """
    if key_bits < MIN_KEY_BITS:
        raise ValueError(f"key_bits must be at least {MIN_KEY_BITS}, got {key_bits}")
    third = key_bits // 3
    while True:
        p, q = _random_prime(third), _random_prime(key_bits - 2 * third)
        n = p * p * q
        if p == q or n.bit_length() != key_bits:
            continue
        p2 = p * p
        while True:
            g = mpz(secrets.randbelow(int(n) - 3) + 2)
            if (gmpy2.powmod(g, p - 1, p2) - 1) % p2 and (gmpy2.powmod(g, p - 1, p2) - 1) // p % p:
                break
        public_key = OUPublicKey(n, g, gmpy2.powmod(g, n, n))
        return public_key, OUPrivateKey(public_key, p)


def encrypt(public_key: OUPublicKey, values: np.ndarray | Sequence[int]) -> paillier.EncryptedVector:
    """Encrypt non-negative integers (scale 0)."""
    ints = [int(v) for v in np.asarray(values, dtype=object).reshape(-1).tolist()]
    return paillier.EncryptedVector(public_key, public_key.encrypt_ints(ints), 0)


def decrypt_residues(private_key: OUPrivateKey, vector: paillier.EncryptedVector) -> list[int]:
    if vector.public_key != private_key.public_key:
        raise ValueError("the vector is encrypted under a different key")
    return [int(m) for m in private_key.decrypt_ints(vector.ciphertexts)]


def _random_prime(bits: int) -> mpz:
    top = mpz(3) << (bits - 2)
    while True:
        candidate = mpz(secrets.randbits(bits)) | top | 1
        if gmpy2.is_prime(candidate, _PRIME_TEST_ROUNDS):
            return candidate
