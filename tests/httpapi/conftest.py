"""A two-party federation of in-process nodes, each serving FATE-Flow's HTTP API on its own HTTP port,
and fate_client 2.2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from fate_grpc.node.config import HttpSettings
from tests.board.support import held
from tests.httpapi.support import FateClient, FateClientMissing, http_address, install_fate_client
from tests.support.nodes import Federation, federation

GUEST, HOST = "9999", "10000"


@pytest.fixture(scope="session")
def fate_client_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fate_client")
    try:
        why = install_fate_client(home)
    except FateClientMissing as missing:
        pytest.fail(str(missing))
    if why is not None:
        pytest.skip(why)
    return home


@dataclass
class FlowSite:
    """The federation, each party's HTTP address, and fate_client pointed at the nodes."""

    fed: Federation
    http: dict[str, str]
    client: FateClient
    server_dir: Path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory, fate_client_home: Path) -> AsyncIterator[FlowSite]:
    root = tmp_path_factory.mktemp("httpapi")
    server_dir = root / "server_files"
    server_dir.mkdir()
    async with held(_site(root, server_dir, fate_client_home)) as running:
        yield running


@asynccontextmanager
async def _site(root: Path, server_dir: Path, home: Path) -> AsyncIterator[FlowSite]:
    async with federation(
        root / "nodes", [GUEST, HOST], server_data_dirs=(server_dir,), http=HttpSettings(listen="127.0.0.1:0")
    ) as fed:
        http = {pid: http_address(node) for pid, node in fed.nodes.items()}
        work = root / "work"
        work.mkdir()
        yield FlowSite(fed, http, FateClient(home, work), server_dir)
