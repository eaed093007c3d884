"""`flow completion bash|zsh|fish`: the shell script that completes flow's commands and options."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from fate_grpc.cli.flow_cli import cli

# The variable click's completion protocol reads (derived from the program name, as click does).
COMPLETE_VAR = "_FLOW_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def completion_script(shell: str) -> str:
    """The completion script of `flow` for `shell` (one of SHELLS)."""
    completion_class = get_completion_class(shell)
    if completion_class is None:  # click knows every shell of SHELLS; kept for a clear failure
        raise click.BadParameter(f"no completion for {shell}", param_hint="SHELL")
    return completion_class(cli, {}, "flow", COMPLETE_VAR).source()


@cli.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash: eval "$(flow completion bash)"   (in ~/.bashrc)
    zsh:  eval "$(flow completion zsh)"    (in ~/.zshrc)
    fish: flow completion fish > ~/.config/fish/completions/flow.fish
    """
    click.echo(completion_script(shell))
