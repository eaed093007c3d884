"""`fate-grpc provision` is an installed command writing outside the checkout; the script wraps it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fate_grpc.node.config import load_config
from tests.support.nodes import ROOT

FATE_GRPC = Path(sys.executable).parent / "fate-grpc"
PARTIES = ["--party", "9999=10.0.0.1:9360", "--party", "10000=10.0.0.2:9360"]


def run(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not FATE_GRPC.exists(), reason="the package is not installed (pip install -e .)")
def test_the_installed_command_writes_to_the_home_folder_by_default(tmp_path: Path) -> None:
    done = run([str(FATE_GRPC), "provision", *PARTIES], home=tmp_path)

    assert done.returncode == 0, done.stderr
    federation = tmp_path / "fate-grpc-federation"
    assert f"federation written to {federation}" in done.stdout
    config = load_config(federation / "parties" / "10000" / "node.yaml")
    assert config.party_id == "10000"


@pytest.mark.skipif(not FATE_GRPC.exists(), reason="the package is not installed (pip install -e .)")
def test_the_installed_command_shows_its_own_help(tmp_path: Path) -> None:
    done = run([str(FATE_GRPC), "provision", "--help"], home=tmp_path)

    assert done.returncode == 0
    assert done.stdout.startswith("usage: fate-grpc provision")
    assert "--user-port" in done.stdout


def test_the_script_refuses_a_folder_git_would_track(tmp_path: Path) -> None:
    done = run([sys.executable, "scripts/provision.py", "--out", "federation_here", *PARTIES], home=tmp_path)

    assert done.returncode == 2
    assert "inside the git checkout" in done.stderr and "not ignored by git" in done.stderr
    assert not (ROOT / "federation_here").exists()
