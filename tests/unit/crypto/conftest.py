"""Key pairs shared by the Paillier tests (key generation and table building are the slow parts)."""

from __future__ import annotations

import pytest

from fate_grpc.crypto import paillier


@pytest.fixture(scope="session")
def keypair() -> tuple[paillier.PublicKey, paillier.PrivateKey]:
    return paillier.generate_keypair(1024)


@pytest.fixture(scope="session")
def other_keypair() -> tuple[paillier.PublicKey, paillier.PrivateKey]:
    return paillier.generate_keypair(1024)


@pytest.fixture(scope="session")
def public_key(keypair: tuple[paillier.PublicKey, paillier.PrivateKey]) -> paillier.PublicKey:
    return keypair[0]


@pytest.fixture(scope="session")
def private_key(keypair: tuple[paillier.PublicKey, paillier.PrivateKey]) -> paillier.PrivateKey:
    return keypair[1]
