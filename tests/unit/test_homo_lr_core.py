"""The homo_lr numeric core: the local step's gradient, clipping, FATE's state_dict, FedAvg weights."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.ml.homo.fedavg import sample_weights, weighted_average
from fate_grpc.ml.homo.model import HomoModel, head_count
from fate_grpc.ml.homo.training import HomoSettings, LocalTrainer, class_targets, clipped, loss_and_gradient


def random_model(heads: int, features: int, *, bias: bool = True, seed: int = 0) -> HomoModel:
    rng = np.random.default_rng(seed)
    return HomoModel(rng.normal(size=(heads, features)), rng.normal(size=heads) if bias else None)


@pytest.mark.parametrize(("heads", "l1"), [(1, 0.0), (3, 0.0), (3, 0.05)])
def test_gradient_matches_finite_differences(heads: int, l1: float) -> None:
    rng = np.random.default_rng(3)
    model = random_model(heads, 4)
    features = rng.normal(size=(20, 4))
    targets = class_targets(rng.integers(0, max(heads, 2), size=20), heads)

    _, gradient = loss_and_gradient(model, features, targets, l1)

    base = model.vector()
    numeric = np.zeros_like(base)
    for index in range(base.size):
        for sign in (1, -1):
            probe = HomoModel(model.weights.copy(), None if model.bias is None else model.bias.copy())
            shifted = base.copy()
            shifted[index] += sign * 1e-6
            probe.set_vector(shifted)
            numeric[index] += sign * loss_and_gradient(probe, features, targets, l1)[0] / 2e-6
    assert np.allclose(gradient, numeric, atol=1e-6)


def test_clipping_scales_to_norm_one_as_torch() -> None:
    big = np.array([3.0, 4.0])

    assert np.linalg.norm(clipped(big)) == pytest.approx(1.0, abs=1e-6)
    assert np.array_equal(clipped(np.array([0.3, 0.4])), [0.3, 0.4])


def test_state_dict_has_fates_keys_and_round_trips() -> None:
    model = random_model(3, 5)

    saved = model.state_dict()
    restored = HomoModel.from_state_dict(saved)

    assert saved["feature_num"] == 5 and saved["label_num"] == 3
    assert list(saved["state_dict"]) == [f"models.{i}.{k}" for i in range(3) for k in ("weight", "bias")]
    assert np.shape(saved["state_dict"]["models.0.weight"]) == (1, 5)
    assert np.array_equal(restored.vector(), model.vector())
    without_bias = HomoModel.from_state_dict(random_model(1, 2, bias=False).state_dict())
    assert without_bias.bias is None


def test_a_broken_state_dict_says_what_is_wrong() -> None:
    saved = random_model(2 + 1, 4).state_dict()
    del saved["state_dict"]["models.2.weight"]

    with pytest.raises(ValueError, match=r"models\.2\.weight"):
        HomoModel.from_state_dict(saved)


def test_probabilities_are_sigmoids_or_their_softmax() -> None:
    binary, multi = random_model(1, 3), random_model(3, 3)
    features = np.random.default_rng(1).normal(size=(6, 3))

    sigmoid = 1 / (1 + np.exp(-binary.scores(features)))
    assert np.allclose(binary.probabilities(features), sigmoid)
    multi_probabilities = multi.probabilities(features)
    assert np.allclose(multi_probabilities.sum(axis=1), 1.0)
    assert head_count(2) == 1 and head_count(4) == 4


def test_penalty_l2_is_torch_weight_decay() -> None:
    settings = HomoSettings(penalty="l2", alpha=0.5, optimizer_params={"lr": 0.1, "weight_decay": 0})
    model = HomoModel(np.ones((1, 2)), np.zeros(1))
    trainer = LocalTrainer(settings, model)
    features = np.zeros((4, 2))  # no data gradient for the weights: only the decay moves them

    trainer.epoch(features, class_targets(np.full(4, 0.5), 1))

    # The bias gradient (sigmoid(0) - 0.5 = 0) vanishes too; one batch of 4 rows: w <- w - lr * 0.5 * w.
    assert np.allclose(model.weights, 0.95)
    assert settings.torch_optimizer_params() == {"lr": 0.1, "weight_decay": 0.5}


def test_fedavg_weights_follow_sample_counts() -> None:
    weights = sample_weights([100, 300])

    assert np.allclose(weights, [0.25, 0.75])
    assert np.allclose(weighted_average([[4.0, 0.0], [0.0, 4.0]], weights), [1.0, 3.0])
    with pytest.raises(ValueError):
        sample_weights([10, 0])
