"""`flow completion SHELL` prints a script that completes flow's commands in a real shell."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fate_grpc.cli.flow_cli import main as flow_main

BIN = Path(sys.executable).parent


def completions(words: list[str]) -> list[str]:
    """What bash offers after `words`, with flow's script loaded as a user's ~/.bashrc would."""
    script = (
        'eval "$(flow completion bash)"\n'
        f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}\n"
        "_flow_completion flow\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None or not (BIN / "flow").exists(), reason="needs bash and flow")
def test_bash_completes_commands_and_subcommands() -> None:
    assert completions(["flow", "jo"]) == ["job"]
    assert "watch" in completions(["flow", "job", "w"])
    assert "--job-id" in completions(["flow", "job", "query", "--j"])


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")]
)
def test_each_shell_gets_its_script(shell: str, marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert flow_main(["completion", shell]) == 0

    assert marker in capsys.readouterr().out


def test_an_unknown_shell_is_refused_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert flow_main(["completion", "tcsh"]) == 2

    assert "'bash', 'zsh', 'fish'" in capsys.readouterr().out
