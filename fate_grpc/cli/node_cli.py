"""`fate-grpc`: run one party's node (`fate-grpc node --conf ...`) or the local simulation (`demo`)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from pathlib import Path

import anyio
import click

from fate_grpc.common.background import LoopCrashed, crashed_loop
from fate_grpc.errors import FateGrpcError
from fate_grpc.observability.log_setup import configure_logging
from fate_grpc.observability.native_log import route_native_stderr


async def run_node(conf: Path) -> None:
    from fate_grpc.node.app import serve
    from fate_grpc.node.config import load_config

    config = load_config(conf)
    configure_logging(config.log.level, config.data_dir / "logs" / "node.log", fmt=config.log.format)
    # gRPC core writes its own lines to descriptor 2; they join the node's log from here on.
    route_native_stderr()
    stop = anyio.Event()

    async def on_signals() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                logging.getLogger("fate_grpc.node").info("signal received: shutting down")
                stop.set()
                return

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(on_signals)
            await serve(config, stop=stop)
            group.cancel_scope.cancel()
    except BaseExceptionGroup as errors:
        crashed = crashed_loop(errors)
        if crashed is None:
            raise
        raise crashed from crashed.__cause__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """fate-grpc node and local simulation."""


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def provision(args: tuple[str, ...]) -> None:
    """Write a federation's CA, party and user certificates and node confs (--help for the options)."""
    from fate_grpc.security.provision_cli import main as provision_main

    sys.exit(provision_main(list(args)))


@cli.command()
@click.option("--conf", required=True, type=click.Path(exists=True, dir_okay=False), help="Node conf YAML.")
def node(conf: str) -> None:
    """Run one party's node in the foreground (Ctrl-C / SIGTERM stops it gracefully)."""
    try:
        anyio.run(run_node, Path(conf))
    except FateGrpcError as exc:
        click.echo(json.dumps({"code": int(exc.code), "message": exc.message}), err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        click.echo(json.dumps({"code": 1, "message": f"cannot start the node: {exc}"}), err=True)
        sys.exit(1)
    except LoopCrashed as exc:
        # the traceback is in the node's log; the operator sees which loop and that the node stopped
        click.echo(json.dumps({"code": 1, "message": f"{exc}: the node stopped"}), err=True)
        sys.exit(1)


@cli.group()
def token() -> None:
    """Manage client tokens directly in a node's store (on the node's host; bootstraps the first admin)."""


@token.command("create")
@click.option("--conf", required=True, type=click.Path(exists=True, dir_okay=False), help="Node conf YAML.")
@click.option("-n", "--name", required=True, help="Who the token is for.")
@click.option("--admin", is_flag=True, help="The token may manage tokens and permissions.")
@click.option("--expires-days", type=int, default=0, help="Lifetime in days (0: no expiry).")
def token_create(conf: str, name: str, admin: bool, expires_days: int) -> None:
    """Create a client token; it is printed once and only its hash is stored."""
    from fate_grpc.domain.ids import check_name
    from fate_grpc.node.config import load_config
    from fate_grpc.security.identity import hash_token, new_token
    from fate_grpc.store.records import TokenRecord
    from fate_grpc.store.sqlite_store import SqliteStore

    async def create() -> str:
        config = load_config(Path(conf))
        check_name(name, "name")
        store = SqliteStore(config.store_path)
        await store.open()
        try:
            value = new_token()
            expire = int(time.time() * 1000) + expires_days * 86_400_000 if expires_days else 0
            await store.put_token(
                TokenRecord(token_hash=hash_token(value), name=name, is_admin=admin, expire_time_ms=expire)
            )
            return value
        finally:
            await store.close()

    try:
        value = anyio.run(create)
    except FateGrpcError as exc:
        click.echo(json.dumps({"code": int(exc.code), "message": exc.message}), err=True)
        sys.exit(exc.exit_code)
    data = {"name": name, "token": value, "admin": admin}
    click.echo(json.dumps({"code": 0, "message": "success", "data": data}))


@cli.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default="demo-run",
    show_default=True,
    help="Where the simulated parties keep their confs, stores, tables and logs.",
)
@click.option(
    "--examples",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="The examples/ folder (data + DAG); found next to the package by default.",
)
@click.option(
    "--tls", is_flag=True, help="Provision a CA and certificates and run the parties over mutual TLS."
)
def demo(workdir: str, examples: str | None, tls: bool) -> None:
    """Start a guest (9999) and a host (10000) as separate processes, upload the breast tables,
    run reader -> psi, print the result, stop the nodes."""
    from fate_grpc.cli.demo import run_demo

    configure_logging("warning")
    sys.exit(run_demo(Path(workdir), Path(examples) if examples else None, tls=tls))


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="fate-grpc", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
