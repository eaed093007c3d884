"""Loss/gradient kernels over row blocks, batches, folds, weights and the plaintext trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.model_selection import KFold

from fate_grpc.crypto import paillier
from fate_grpc.crypto.paillier_linalg import transpose_matvec
from fate_grpc.ml.linear import kernels, model
from fate_grpc.ml.linear.plaintext import train_plaintext
from fate_grpc.ml.linear.training import TrainSettings


def test_block_sums_equal_the_whole_whatever_the_blocks() -> None:
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(103, 4)), rng.normal(size=(103, 1))
    y = kernels.signed_labels(rng.integers(0, 2, 103))
    d = kernels.residual("lr", z, y)
    whole = kernels.gradient_sum(x, d)
    for block in (1, 7, 50, 103, 500):
        assert np.allclose(kernels.block_sums(lambda s: kernels.gradient_sum(x[s], d[s]), 103, block), whole)
        blocks = kernels.block_sums(lambda s: kernels.loss_sum("lr", z[s], y[s]), 103, block)
        assert blocks == pytest.approx(kernels.loss_sum("lr", z, y))


def test_taylor_loss_and_its_gradient() -> None:
    z, y = np.array([[0.3], [-1.2]]), np.array([[1.0], [-1.0]])
    expected = sum(math.log(2) - 0.5 * yi * zi + 0.125 * zi * zi for zi, yi in [(0.3, 1.0), (-1.2, -1.0)])
    assert kernels.loss_sum("lr", z, y) == pytest.approx(expected)
    assert kernels.residual("lr", z, y).reshape(-1).tolist() == pytest.approx([0.075 - 0.5, -0.3 + 0.5])
    assert kernels.loss_sum("linr", z, y) == pytest.approx(0.5 * ((0.3 - 1) ** 2 + (-1.2 + 1) ** 2))


def test_batches_as_fates_unshuffled_loader() -> None:
    assert kernels.batch_bounds(25, None) == [(0, 25)]
    assert kernels.batch_bounds(25, 10) == [(0, 10), (10, 20), (20, 25)]
    assert kernels.batch_bounds(8, 10) == [(0, 8)]


@pytest.mark.parametrize(("shuffle", "seed"), [(False, None), (True, 7)])
def test_folds_equal_sklearn_kfold(shuffle: bool, seed: int | None) -> None:
    ours = list(kernels.kfold_indices(23, 4, shuffle=shuffle, random_state=seed))
    theirs = list(KFold(4, shuffle=shuffle, random_state=seed).split(np.zeros(23)))
    assert len(ours) == len(theirs)
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        assert a_train.tolist() == b_train.tolist()
        assert a_test.tolist() == b_test.tolist()


def test_l1_update_soft_thresholds_coefficients_only() -> None:
    weights = np.array([[0.5], [-0.05], [1.0]])
    delta = np.array([[0.1], [0.0], [0.5]])
    updated = model.apply_update(weights, delta, penalty="l1", alpha=1.0, lr=0.1, epoch=4, fit_intercept=True)
    assert updated.reshape(-1).tolist() == pytest.approx([0.35, 0.0, 0.5])


def test_convergence_rules() -> None:
    diff = model.Convergence("diff", 0.01)
    assert not diff.is_converged(loss=1.0, update=np.zeros(1))
    assert diff.is_converged(loss=1.005, update=np.zeros(1))
    assert model.Convergence("abs", 0.5).is_converged(loss=0.4, update=np.zeros(1))
    assert model.Convergence("weight_diff", 0.1).is_converged(loss=None, update=np.array([0.03, 0.04]))


def test_weights_serialise_as_fate() -> None:
    weights = np.array([[1.0], [2.0], [3.0]])
    param = model.serialize_weights(weights, True)
    assert param == {"coef_": [[1.0], [2.0]], "intercept_": 3.0, "dtype": "float64"}
    assert model.deserialize_weights(param, True).tolist() == weights.tolist()


def test_transpose_matvec_equals_plaintext_within_fixed_point_error() -> None:
    public, private = paillier.generate_keypair(1024)
    rng = np.random.default_rng(3)
    matrix, values = rng.normal(size=(70, 5)) * 4, rng.normal(size=70)
    encrypted = paillier.encrypt(public, values)
    product = transpose_matvec(matrix, encrypted, precision_bits=23, block_rows=16)
    assert np.allclose(paillier.decrypt(private, product), matrix.T @ values, atol=70 * 2.0**-23 * 4)


def test_plaintext_trainer_converges_with_early_stop() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)
    settings = TrainSettings(
        task="lr",
        epochs=200,
        batch_size=None,
        optimizer_method="sgd",
        penalty="none",
        alpha=0.0,
        optimizer_params={"lr": 0.5},
        scheduler_method="constant",
        scheduler_params={"factor": 1.0},
        init_param={"method": "zeros", "fit_intercept": True},
        early_stop="diff",
        tol=1e-4,
        floating_point_precision=23,
    )
    run = train_plaintext(settings, [x[:, :1], x[:, 1:]], y)
    assert run.coordinator.is_converged
    assert run.coordinator.end_epoch == len(run.losses) - 1 < 199
    assert abs(run.losses[-1] - run.losses[-2]) < 1e-4
