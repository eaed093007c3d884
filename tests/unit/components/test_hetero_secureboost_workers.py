"""The crypto worker pool shared by the model components: started at once, usable, and shut down cleanly
even when the task ends before its workers have started."""

from __future__ import annotations

import os

import pytest

from fate_grpc.components.model_common.crypto_workers import CryptoWorkers

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no workers are started")


def test_small_data_gets_no_workers() -> None:
    with CryptoWorkers(10, min_rows=11) as executor:
        assert executor is None


def test_workers_compute_and_end_with_the_block() -> None:
    with CryptoWorkers(10, min_rows=1) as executor:
        assert executor is not None
        assert executor.submit(abs, -3).result() == 3

    with pytest.raises(RuntimeError):
        executor.submit(abs, -3)


def test_leaving_before_the_workers_have_started_ends_cleanly() -> None:
    with CryptoWorkers(10, min_rows=1) as executor:
        assert executor is not None
