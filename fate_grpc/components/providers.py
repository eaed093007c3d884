"""Component providers (`name:version@device`): the built-in one and registered ones.

A registered provider is a Python module on the node's host exposing CATALOG (name -> ComponentSpec) and
RUNNERS (name -> run function), optionally below an extra import path. Registering one runs its code
in the node and in task processes, so only a party's admins may do it.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from fate_grpc.components.catalog import BUILTIN_COMPONENTS
from fate_grpc.domain.component_spec import ComponentSpec
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument

BUILTIN_NAME = "fate"
# The FATE 2.x component versions whose DAGs the built-in components run unchanged.
BUILTIN_VERSIONS = ("2.0.0", "2.0.1", "2.1.0", "2.1.1", "2.2.0")
DEVICES = ("local",)
PROVIDER_PATTERN = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+):(?P<version>[A-Za-z0-9_.+-]+)@(?P<device>[A-Za-z0-9_-]+)$"
)
MODULE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class ProviderRef:
    name: str
    version: str
    device: str

    def __str__(self) -> str:
        return f"{self.name}:{self.version}@{self.device}"


def parse_provider(text: str) -> ProviderRef:
    found = PROVIDER_PATTERN.match(text)
    if not found:
        raise invalid_argument(f"provider {text!r} must look like name:version@device", field_path="provider")
    return ProviderRef(found["name"], found["version"], found["device"])


@dataclass(frozen=True)
class Provider:
    ref: ProviderRef
    components: dict[str, ComponentSpec]
    module: str = ""
    path: str = ""
    builtin: bool = False


@dataclass
class ProviderRegistry:
    """Every provider this node knows; `catalog` is the union of their components (names are unique)."""

    providers: dict[ProviderRef, Provider] = field(default_factory=dict)
    catalog: dict[str, ComponentSpec] = field(default_factory=dict)

    @classmethod
    def with_builtin(cls) -> ProviderRegistry:
        registry = cls()
        for version in BUILTIN_VERSIONS:
            ref = ProviderRef(BUILTIN_NAME, version, "local")
            registry.providers[ref] = Provider(ref, dict(BUILTIN_COMPONENTS), builtin=True)
        registry.catalog.update(BUILTIN_COMPONENTS)
        return registry

    def add(self, ref: ProviderRef, module: str, path: str = "") -> Provider:
        """Import a provider module and make its components available. Names may not clash."""
        if ref.device not in DEVICES:
            raise invalid_argument(f"device {ref.device!r} is not supported (use local)", field_path="device")
        loaded = load_provider_module(module, path)
        components = dict(getattr(loaded, "CATALOG", {}))
        runners = getattr(loaded, "RUNNERS", {})
        if not components or set(components) - set(runners):
            raise invalid_argument(
                f"module {module} must define CATALOG and RUNNERS for the same components",
                field_path="module",
            )
        for name in components:
            owner = self.owner_of(name)
            if owner is not None and owner.ref.name != ref.name:
                raise FateGrpcError(
                    ErrorCode.ALREADY_EXISTS, f"component {name} is already provided by {owner.ref}"
                )
        provider = Provider(ref, components, module=module, path=path)
        self.providers[ref] = provider
        self.catalog.update(components)
        return provider

    def remove(self, ref: ProviderRef) -> None:
        """Forget a registered provider; its components stay known while another provider has them."""
        provider = self.providers.pop(ref, None)
        if provider is None or provider.builtin:
            return
        for name in provider.components:
            if self.owner_of(name) is None:
                self.catalog.pop(name, None)

    def owner_of(self, component: str) -> Provider | None:
        """The newest registered provider of a component (built-in first)."""
        owners = [p for p in self.providers.values() if component in p.components]
        return max(owners, key=lambda p: (p.builtin, p.ref.version)) if owners else None

    def resolve(self, component: str, requested: str | None) -> Provider:
        """The provider a task runs with: the one its conf names, else the component's own."""
        if requested:
            ref = parse_provider(requested)
            provider = self.providers.get(ref)
            if provider is None:
                known = ", ".join(sorted(str(r) for r in self.providers if r.name == ref.name)) or "none"
                raise invalid_argument(
                    f"provider {ref} is not registered here (known {ref.name} providers: {known})",
                    field_path="conf.provider",
                )
            if component not in provider.components:
                raise invalid_argument(
                    f"provider {ref} has no component {component}", field_path="component_ref"
                )
            return provider
        owner = self.owner_of(component)
        if owner is None:
            raise invalid_argument(f"no provider here has component {component}", field_path="component_ref")
        return owner

    def describe(self) -> Iterable[Provider]:
        return sorted(self.providers.values(), key=lambda p: (p.ref.name, p.ref.version, p.ref.device))


def load_provider_module(module: str, path: str = "") -> ModuleType:
    """Import a provider module (adding `path` to the import path first)."""
    if not MODULE_PATTERN.match(module):
        raise invalid_argument(f"module {module!r} is not a Python module name", field_path="module")
    if path and path not in sys.path:
        sys.path.insert(0, path)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise invalid_argument(
            f"cannot import provider module {module}: {exc}", field_path="module"
        ) from None


def runner_of(component: str, module: str = "", path: str = "") -> Any:
    """The run function of a component in a task process."""
    if not module:
        from fate_grpc.components.base import get_component

        return get_component(component)
    runners = getattr(load_provider_module(module, path), "RUNNERS", {})
    if component not in runners:
        raise KeyError(f"provider module {module} has no component {component}")
    return runners[component]
