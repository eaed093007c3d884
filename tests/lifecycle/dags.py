"""Small DAGs for the lifecycle tests, built as documents."""

from __future__ import annotations

from typing import Any

import yaml


def dag(
    tasks: dict[str, dict[str, Any]],
    *,
    parties: tuple[str, ...] = ("9999", "10000"),
    conf: dict[str, Any] | None = None,
) -> str:
    """A DAG whose parties are guest parties[0] and hosts parties[1:]; tasks run at all of them."""
    document: dict[str, Any] = {
        "schema_version": "2.1.0",
        "kind": "fate",
        "dag": {
            "parties": [
                {"role": "guest", "party_id": [parties[0]]},
                *([{"role": "host", "party_id": list(parties[1:])}] if parties[1:] else []),
            ],
            "conf": dict(conf or {}),
            "tasks": tasks,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def task(component: str, depends: list[str] | None = None, **parameters: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"component_ref": component, "parameters": parameters}
    if depends:
        spec["dependent_tasks"] = depends
    return spec
