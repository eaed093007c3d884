"""The learning-rate schedulers against torch's documented closed forms and FATE's documented figure."""

from __future__ import annotations

import pytest

from fate_grpc.ml.linear.optimizers import Optimizer
from fate_grpc.ml.linear.schedulers import LRScheduler


def rates(method: str, params: dict[str, object], lr: float, epochs: int) -> list[float]:
    optimizer = Optimizer("sgd", {"lr": lr})
    scheduler = LRScheduler(method, params, optimizer)
    seen = [scheduler.lr]
    for _ in range(epochs - 1):
        scheduler.step()
        seen.append(scheduler.lr)
    assert optimizer.lr == seen[-1]
    return seen


def test_linear_closed_form() -> None:
    start, end, total = 0.7, 1.0, 10
    expected = [0.1 * (start + (end - start) * min(t, total) / total) for t in range(15)]
    assert rates("linear", {"start_factor": start, "total_iters": total}, 0.1, 15) == pytest.approx(expected)


def test_linear_matches_fates_documented_state_after_ten_epochs() -> None:
    optimizer = Optimizer("sgd", {"lr": 0.1})
    scheduler = LRScheduler("linear", {"start_factor": 0.7, "total_iters": 100}, optimizer)
    for _ in range(9):
        scheduler.step()
    state = scheduler.state_dict()
    assert state["lr_scheduler"] == {
        "start_factor": 0.7,
        "end_factor": 1.0,
        "total_iters": 100,
        "base_lrs": [0.1],
        "last_epoch": 9,
        "verbose": False,
        "_step_count": 10,
        "_get_lr_called_within_step": False,
        "_last_lr": [0.07269999999999996],
    }
    assert state["method"] == "linear"
    assert state["lr_params"] == {"start_factor": 0.7, "total_iters": 100}
    assert optimizer.group["initial_lr"] == 0.1


def test_constant_closed_form() -> None:
    expected = [0.1 * (0.5 if t < 4 else 1.0) for t in range(8)]
    assert rates("constant", {"factor": 0.5, "total_iters": 4}, 0.1, 8) == pytest.approx(expected)


def test_step_closed_form() -> None:
    expected = [0.1 * 0.5 ** (t // 3) for t in range(10)]
    assert rates("step", {"step_size": 3, "gamma": 0.5}, 0.1, 10) == pytest.approx(expected)


def test_fates_default_schedule_is_constant() -> None:
    assert rates("linear", {"start_factor": 1.0}, 0.01, 5) == [0.01] * 5


def test_restore_continues_the_schedule() -> None:
    whole = rates("step", {"step_size": 2}, 0.1, 8)
    optimizer = Optimizer("sgd", {"lr": 0.1})
    first = LRScheduler("step", {"step_size": 2}, optimizer)
    for _ in range(3):
        first.step()
    saved_lr = dict(optimizer.state_dict()["param_groups"][0])
    restored_optimizer = Optimizer("sgd", {"lr": 0.1})
    restored_optimizer.load_state_dict({"param_groups": [saved_lr], "state": {}})
    second = LRScheduler.restore(first.state_dict(), restored_optimizer)
    seen = [second.lr]
    for _ in range(4):
        second.step()
        seen.append(second.lr)
    assert seen == pytest.approx(whole[3:8])


def test_bad_scheduler_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="step_size is required"):
        LRScheduler("step", {}, Optimizer("sgd", {"lr": 0.1}))
    with pytest.raises(ValueError, match="linear takes no parameter gamma"):
        LRScheduler("linear", {"gamma": 0.1}, Optimizer("sgd", {"lr": 0.1}))
