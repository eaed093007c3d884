"""A component's parameters as FATE hands them to its components: checked, defaulted and normalised.

The node checks parameters at submit against the same declarations (`ComponentSpec.parameters`); a
component checks them again at its party because per-party values may come from places the submit check
cannot see (an inherited task, a provider of another version). Either way the rules are FATE 2.2's
(`fate_grpc.domain.param_checks`).
"""

from __future__ import annotations

from typing import Any, cast

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.domain.component_spec import ComponentSpec
from fate_grpc.domain.param_checks import ParamValueError


def checked_parameters(spec: ComponentSpec, given: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter in the form the component reads (null or absent -> FATE's default).

    Parameters the component does not declare are passed on unchanged (FATE ignores them).

    Raises:
        ComponentError: A value FATE would refuse, naming the parameter (and the place inside it).
    """
    out = dict(given)
    for name, param in spec.parameters.items():
        try:
            out[name] = param.normalize(given.get(name))
        except ParamValueError as error:
            raise ComponentError(f"{spec.name}: parameter {name}{error.path} {error.reason}") from None
    return out


def with_checked_parameters(ctx: ComponentContext, spec: ComponentSpec) -> ComponentContext:
    """`ctx` whose `parameters` are `checked_parameters(spec, ctx.parameters)`; all else is `ctx`'s."""
    return cast(ComponentContext, _CheckedContext(ctx, checked_parameters(spec, ctx.parameters)))


class _CheckedContext:
    """Delegates everything to the party's context except the parameters, which it replaces."""

    def __init__(self, inner: ComponentContext, parameters: dict[str, Any]) -> None:
        self._inner = inner
        self._parameters = parameters

    @property
    def parameters(self) -> dict[str, Any]:
        return self._parameters

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
