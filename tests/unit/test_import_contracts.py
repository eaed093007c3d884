"""The package layers in pyproject.toml hold, and an import that closes a cycle breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

importlinter = pytest.importorskip("importlinter", reason="import-linter comes with the dev extra")

REPO = Path(__file__).resolve().parents[2]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the fate_grpc package under `root` with the project's contracts."""
    script = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    # `root` first, so that its fate_grpc is the one analysed; then wherever import-linter lives.
    search_path = os.pathsep.join([str(root), str(Path(importlinter.__file__).resolve().parents[1])])
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={"PYTHONPATH": search_path, "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_project(tmp_path: Path) -> Path:
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "fate_grpc", tmp_path / "fate_grpc", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_project_keeps_its_import_contracts() -> None:
    result = lint_imports(REPO)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    root = copy_of_project(tmp_path)
    add_import(root / "fate_grpc" / "wire" / "convert.py", "import fate_grpc.scheduler.views")

    result = lint_imports(root)

    assert result.returncode == 1
    assert "Packages import downwards only BROKEN" in result.stdout
    assert "fate_grpc.wire.convert -> fate_grpc.scheduler.views" in result.stdout


def test_a_cycle_between_sibling_packages_breaks_the_no_cycle_rule(tmp_path: Path) -> None:
    # generated API packages are outside the layers, so only the cycle rule catches this one
    root = copy_of_project(tmp_path)
    add_import(root / "fate_grpc" / "client" / "__init__.py", "import fate_grpc.cli.flow_cli")

    result = lint_imports(root)

    assert result.returncode == 1
    assert "No import cycles between sibling packages or modules BROKEN" in result.stdout
    assert "No cycles are allowed in fate_grpc." in result.stdout
