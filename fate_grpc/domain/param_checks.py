"""FATE 2.2's parameter value forms as small composable checks (pure, no I/O).

A check takes a value as it arrives from YAML/JSON (never None: null means "use the default" and is
handled before any check runs) and returns the value in the form a component reads, or raises
`ParamValueError` with the reason. The rules are FATE's (its pydantic declarations under
``fate/components/core/params``), with two deliberate differences: a boolean is never a number (FATE's
pydantic turns ``true`` into ``1.0``), and a string is never a number (pydantic parses ``"0.8"``).

Normalisations FATE also applies: string choices are lower-cased; a whole float where an int is
declared becomes that int (``10.0`` -> ``10``); an int where a float is declared becomes a float.
A float with a fractional part where an int is declared is refused (pydantic would truncate it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], Any]


class ParamValueError(ValueError):
    """A parameter value FATE would refuse; `path` locates it inside the value (e.g. ``kind`` or ``[2]``)."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def inside(self, step: str) -> ParamValueError:
        """The same error one level further out (`step` is ``.key`` or ``[index]``)."""
        return ParamValueError(self.reason, step + self.path)


def describe(value: Any) -> str:
    """A value's kind and the value itself, short, for error messages."""
    kind = _KIND_NAMES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


_KIND_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounds_problem(
    value: float,
    gt: float | None,
    ge: float | None,
    lt: float | None,
    le: float | None,
) -> str | None:
    for bound, holds, word in (
        (gt, lambda b: value > b, ">"),
        (ge, lambda b: value >= b, ">="),
        (lt, lambda b: value < b, "<"),
        (le, lambda b: value <= b, "<="),
    ):
        if bound is not None and not holds(bound):
            return f"{word} {bound:g}"
    return None


def _bounds_text(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    parts = [f"{w} {b:g}" for b, w in ((gt, ">"), (ge, ">="), (lt, "<"), (le, "<=")) if b is not None]
    return " and ".join(parts)


def string() -> Check:
    """Any string."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ParamValueError(f"must be a string, got {describe(value)}")
        return value

    return check


def boolean() -> Check:
    """true or false (never 0/1)."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamValueError(f"must be true or false, got {describe(value)}")
        return value

    return check


def choice(*options: str) -> Check:
    """One of `options`, case-insensitive; returns it lower-cased (FATE's string_choice)."""
    allowed = tuple(o.lower() for o in options)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ParamValueError(f"must be one of {', '.join(allowed)}; got {describe(value)}")
        lowered = value.lower()
        if lowered not in allowed:
            raise ParamValueError(f"must be one of {', '.join(allowed)} (any case); got {value!r}")
        return lowered

    return check


def integer(
    *, gt: int | None = None, ge: int | None = None, lt: int | None = None, le: int | None = None
) -> Check:
    """An int (a whole float is taken as that int) within the bounds (FATE's conint)."""
    bounds = _bounds_text(gt, ge, lt, le)
    wanted = f"an integer{' ' + bounds if bounds else ''}"

    def check(value: Any) -> int:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            raise ParamValueError(f"must be {wanted}, got {describe(value)}")
        number = int(value)
        if _bounds_problem(number, gt, ge, lt, le):
            raise ParamValueError(f"must be {wanted}, got {value!r}")
        return number

    return check


def number(
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Check:
    """A finite number within the bounds, returned as a float (FATE's confloat)."""
    bounds = _bounds_text(gt, ge, lt, le)
    wanted = f"a number{' ' + bounds if bounds else ''}"

    def check(value: Any) -> float:
        if not _is_number(value) or not math.isfinite(value):
            raise ParamValueError(f"must be {wanted}, got {describe(value)}")
        if _bounds_problem(value, gt, ge, lt, le):
            raise ParamValueError(f"must be {wanted}, got {value!r}")
        return float(value)

    return check


def fraction_or_count() -> Check:
    """FATE's ``Union[confloat(ge=0, le=1), conint(ge=0)]`` of data_split's sizes.

    FATE tries the fraction first, so any number in [0, 1] is a fraction (``1`` means all rows, ``0``
    none) and a whole number above 1 is a row count (``200`` or ``200.0``). Returns a float for a
    fraction and an int for a count, which is how the split tells them apart.
    """

    def check(value: Any) -> float | int:
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise ParamValueError(
                f"must be a fraction in [0, 1] or a row count (an integer > 1), got {describe(value)}"
            )
        if value <= 1:
            return float(value)
        if isinstance(value, float) and not value.is_integer():
            raise ParamValueError(f"must be a fraction in [0, 1] or a whole row count; {value!r} is neither")
        return int(value)

    return check


def percentile() -> Check:
    """A percentile name like ``"25%"`` or ``"100%"`` (FATE's legal_percentile)."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"(100|\d{1,2})%", value):
            raise ParamValueError(f"must be a percentile such as '25%', got {describe(value)}")
        return value

    return check


def any_of(*checks: Check, wanted: str) -> Check:
    """The first check that accepts the value (FATE's Union, tried in order)."""

    def check(value: Any) -> Any:
        for candidate in checks:
            try:
                return candidate(value)
            except ParamValueError:
                continue
        raise ParamValueError(f"must be {wanted}, got {describe(value)}")

    return check


def list_of(item: Check, *, wanted: str = "a list", single: bool = False) -> Check:
    """A list whose items pass `item`; with `single`, a lone item is taken as a one-item list."""

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            if single:
                return [_item(item, value, 0)]
            raise ParamValueError(f"must be {wanted}, got {describe(value)}")
        return [_item(item, element, index) for index, element in enumerate(value)]

    return check


def _item(item: Check, value: Any, index: int) -> Any:
    if value is None:
        raise ParamValueError("must not be null", f"[{index}]")
    try:
        return item(value)
    except ParamValueError as error:
        raise error.inside(f"[{index}]") from None


def mapping_of(key: Check, value_check: Check, *, wanted: str = "a mapping") -> Check:
    """A mapping whose keys pass `key` and whose values pass `value_check`."""

    def check(value: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise ParamValueError(f"must be {wanted}, got {describe(value)}")
        out: dict[Any, Any] = {}
        for raw_key, raw_value in value.items():
            try:
                checked_key = key(raw_key)
            except ParamValueError as error:
                raise error.inside(f"[{raw_key!r}]") from None
            if raw_value is None:
                raise ParamValueError("must not be null", f"[{raw_key!r}]")
            try:
                out[checked_key] = value_check(raw_value)
            except ParamValueError as error:
                raise error.inside(f"[{raw_key!r}]") from None
        return out

    return check


def mapping() -> Check:
    """Any mapping (FATE's plain ``dict``)."""
    return mapping_of(lambda k: k, lambda v: v)


def record(
    fields: Mapping[str, Check], *, required: Sequence[str] = (), defaults: Mapping[str, Any]
) -> Check:
    """A mapping with known keys (a FATE pydantic model): each given key checked, missing ones defaulted.

    Unknown keys are ignored, as FATE's models ignore them; a null field takes its default.
    """

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ParamValueError(f"must be a mapping with keys {', '.join(fields)}, got {describe(value)}")
        out = {name: _copy(default) for name, default in defaults.items()}
        for name in required:
            if value.get(name) is None:
                raise ParamValueError("is required", f".{name}")
        for name, field_check in fields.items():
            if value.get(name) is None:
                continue
            try:
                out[name] = field_check(value[name])
            except ParamValueError as error:
                raise error.inside(f".{name}") from None
        return out

    return check


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def refine(base: Check, rule: Callable[[Any], str | None]) -> Check:
    """`base`, then `rule` on its result (a reason string refuses the value)."""

    def check(value: Any) -> Any:
        checked = base(value)
        problem = rule(checked)
        if problem:
            raise ParamValueError(problem)
        return checked

    return check
