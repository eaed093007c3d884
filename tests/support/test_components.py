"""A test-only component provider: components that sleep, fail, or fail a given number of times.

Registered by the tests as provider `testkit:1.0@local` (module tests.support.test_components, path =
the repository root), so that task processes can import it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.domain.component_spec import ComponentSpec, ParamSpec, StageSpec

ROLES = frozenset({"guest", "host", "arbiter"})


def sleep(ctx: ComponentContext) -> None:
    """Sleep `seconds`, reporting progress; write a marker with this process's pid first."""
    seconds = float(ctx.parameters.get("seconds", 1.0))
    marker = ctx.parameters.get("pid_dir")
    if marker:
        Path(str(marker)).mkdir(parents=True, exist_ok=True)
        (Path(str(marker)) / f"{ctx.role}_{ctx.party_id}_{os.getpid()}").write_text(str(os.getpid()))
    steps = 10
    for step in range(steps):
        time.sleep(seconds / steps)
        ctx.report_progress(int(100 * (step + 1) / steps))


def fail(ctx: ComponentContext) -> None:
    """Fail at the party named by `party` (all parties when empty) with `message`, unless the file
    `unless_exists` exists."""
    unless = ctx.parameters.get("unless_exists")
    if unless and Path(str(unless)).exists():
        return
    where = str(ctx.parameters.get("party") or "")
    if not where or where == ctx.party_id:
        raise ComponentError(str(ctx.parameters.get("message", "failing on purpose")))


def crash(ctx: ComponentContext) -> None:
    """Raise an unexpected exception at the party named by `party` (all when empty), to test tracebacks."""
    where = str(ctx.parameters.get("party") or "")
    if not where or where == ctx.party_id:
        raise ZeroDivisionError("division by zero in crash component")


def metrics(ctx: ComponentContext) -> None:
    """Log a loss for `steps` iterations, then wait for the file `release` (if set) and log the last one."""
    steps = int(ctx.parameters.get("steps", 3))
    for step in range(steps):
        ctx.log_metric(
            "lr_loss",
            [1.0 / (step + 1)],
            type="loss",
            step=step,
            step_axis="iterations",
            groups=(("default", None), ("train", None)),
        )
    release = ctx.parameters.get("release")
    if release:
        deadline = time.monotonic() + 60
        while not Path(str(release)).exists():
            if time.monotonic() > deadline:
                raise ComponentError("release file never appeared")
            time.sleep(0.02)
    ctx.log_metric(
        "lr_loss",
        [0.0],
        type="loss",
        step=steps,
        step_axis="iterations",
        groups=(("default", None), ("train", None)),
    )
    ctx.log_metric("summary", {"steps": steps + 1, "ok": True})


def exit_now(ctx: ComponentContext) -> None:
    """End the task process at once with exit status `code`, reporting nothing."""
    os._exit(int(ctx.parameters.get("code", 3)))


def tagged(value: Any) -> Any:
    """The value as JSON with every scalar tagged by its type (1, 1.0 and True differ; nan is "nan")."""
    if isinstance(value, dict):
        return {"map": [[tagged(k), tagged(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [tagged(v) for v in value]}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return {type(value).__name__: value}
    if isinstance(value, int):
        return {"int": str(value)}
    return {"unexpected": type(value).__name__}


def echo_parameters(ctx: ComponentContext) -> None:
    """Write the parameter `document` as read, tagged by type, to `<out_dir>/<role>_<party_id>.json`."""
    out_dir = Path(str(ctx.parameters["out_dir"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = json.dumps(tagged(ctx.parameters.get("document")), ensure_ascii=True)
    (out_dir / f"{ctx.role}_{ctx.party_id}.json").write_text(written, encoding="utf-8")


def _spec(name: str, params: dict[str, ParamSpec]) -> ComponentSpec:
    return ComponentSpec(name=name, roles=ROLES, stages={"default": StageSpec()}, parameters=params)


CATALOG = {
    "testkit_sleep": _spec(
        "testkit_sleep",
        {
            "seconds": ParamSpec("seconds", (int, float), default=1.0),
            "pid_dir": ParamSpec("pid_dir", (str,)),
        },
    ),
    "testkit_fail": _spec(
        "testkit_fail",
        {
            "message": ParamSpec("message", (str,), default="failing on purpose"),
            "party": ParamSpec("party", (str,)),
            "unless_exists": ParamSpec("unless_exists", (str,)),
        },
    ),
    "testkit_crash": _spec("testkit_crash", {"party": ParamSpec("party", (str,))}),
    "testkit_metrics": _spec(
        "testkit_metrics",
        {"steps": ParamSpec("steps", (int,), default=3), "release": ParamSpec("release", (str,))},
    ),
    "testkit_exit": _spec("testkit_exit", {"code": ParamSpec("code", (int,), default=3)}),
    # Any document at all: no declared type, so the node passes it on as the DAG wrote it.
    "testkit_echo_parameters": _spec(
        "testkit_echo_parameters",
        {"document": ParamSpec("document"), "out_dir": ParamSpec("out_dir", (str,), required=True)},
    ),
}
RUNNERS = {
    "testkit_sleep": sleep,
    "testkit_fail": fail,
    "testkit_crash": crash,
    "testkit_metrics": metrics,
    "testkit_echo_parameters": echo_parameters,
    "testkit_exit": exit_now,
}
