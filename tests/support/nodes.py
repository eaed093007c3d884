"""Real nodes for tests: in-process (same event loop, real gRPC servers on 127.0.0.1 port 0)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import grpc

from fate_grpc.client.v1 import client_pb2, client_pb2_grpc
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2_grpc
from fate_grpc.node.app import Node
from fate_grpc.node.config import NodeConfig, SchedulerSettings, Timeouts
from fate_grpc.security.pki import party_dns_name
from fate_grpc.security.provision import Federation as Federation_
from fate_grpc.security.provision import PartySpec, provision
from fate_grpc.security.tls import TlsSettings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
DAGS = ROOT / "examples" / "dags"
END = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}


def node_config(party_id: str, data_dir: Path, **overrides: Any) -> NodeConfig:
    fields: dict[str, Any] = {
        "party_id": party_id,
        "listen": "127.0.0.1:0",
        "data_dir": data_dir,
        "fork_server": True,
        "timeouts": Timeouts(rpc_s=5, job_create_s=5, report_retry_s=5, task_receive_s=60),
        "scheduler": SchedulerSettings(collect_after_s=2, sweep_interval_s=0.5),
    }
    fields.update(overrides)
    return NodeConfig(**fields)


def tls_settings(pki_root: Federation_, party_id: str) -> TlsSettings:
    per_party = {
        p: pki_root.ca_cert(p) for p in pki_root.parties if pki_root.ca_cert(p) != pki_root.ca_cert()
    }
    return TlsSettings(
        cert=pki_root.node_cert(party_id),
        key=pki_root.node_key(party_id),
        trust=pki_root.bundle,
        client_ca=pki_root.ca_cert(party_id),
        partner_cas=per_party,
    )


def user_credentials(pki_root: Federation_, party_id: str, user: str = "root") -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=pki_root.bundle.read_bytes(),
        private_key=pki_root.user_key(party_id, user).read_bytes(),
        certificate_chain=pki_root.user_cert(party_id, user).read_bytes(),
    )


def node_credentials(pki_root: Federation_, party_id: str) -> grpc.ChannelCredentials:
    """What party `party_id`'s node presents when it calls another node."""
    return grpc.ssl_channel_credentials(
        root_certificates=pki_root.bundle.read_bytes(),
        private_key=pki_root.node_key(party_id).read_bytes(),
        certificate_chain=pki_root.node_cert(party_id).read_bytes(),
    )


class Federation:
    """Several in-process nodes that know each other's addresses."""

    def __init__(self, nodes: dict[str, Node], pki_root: Federation_ | None = None) -> None:
        self.nodes = nodes
        self.pki = pki_root
        self._channels: list[grpc.aio.Channel] = []

    def address(self, party_id: str) -> str:
        return self.nodes[party_id].addresses.peer

    def channel(
        self,
        party_id: str,
        credentials: grpc.ChannelCredentials | None = None,
        *,
        server_party: str | None = None,
    ) -> grpc.aio.Channel:
        """A channel to a node: with TLS as party_id's admin user unless other credentials are given."""
        if credentials is None and self.pki is not None:
            credentials = user_credentials(self.pki, party_id)
        if credentials is None:
            channel = grpc.aio.insecure_channel(self.address(party_id))
        else:
            options = [("grpc.ssl_target_name_override", party_dns_name(server_party or party_id))]
            channel = grpc.aio.secure_channel(self.address(party_id), credentials, options=options)
        self._channels.append(channel)
        return channel

    def client(self, party_id: str) -> client_pb2_grpc.ClientServiceStub:
        return client_pb2_grpc.ClientServiceStub(self.channel(party_id))

    def control(self, party_id: str, *, as_party: str | None = None) -> control_pb2_grpc.ControlServiceStub:
        """The control API of party_id's node, called as node `as_party` (with TLS) or plainly."""
        if self.pki is not None and as_party:
            channel = self.channel(party_id, node_credentials(self.pki, as_party))
        else:
            channel = grpc.aio.insecure_channel(self.address(party_id))
            self._channels.append(channel)
        return control_pb2_grpc.ControlServiceStub(channel)

    async def upload(
        self, party_id: str, file: Path, name: str, *, label: str = "", namespace: str = "experiment"
    ) -> client_pb2.UploadTableResponse:
        async def requests() -> AsyncIterator[client_pb2.UploadTableRequest]:
            yield client_pb2.UploadTableRequest(
                header=client_pb2.UploadTableHeader(
                    namespace=namespace,
                    name=name,
                    head=True,
                    delimiter=",",
                    match_id_name="id",
                    label_name=label,
                )
            )
            yield client_pb2.UploadTableRequest(chunk=await anyio.Path(file).read_bytes())

        return await self.client(party_id).UploadTable(requests(), timeout=30)

    async def upload_breast(self, guest: str = "9999", host: str = "10000") -> None:
        await self.upload(guest, DATA / "breast_hetero_guest.csv", "breast_hetero_guest", label="y")
        await self.upload(host, DATA / "breast_hetero_host.csv", "breast_hetero_host")

    async def register_testkit(self) -> None:
        """Register the test-only component provider (tests.support.test_components) at every node."""
        info = client_pb2.ProviderInfo(
            name="testkit",
            version="1.0",
            device="local",
            module="tests.support.test_components",
            path=str(ROOT),
        )
        for party_id in self.nodes:
            await self.client(party_id).RegisterProvider(client_pb2.RegisterProviderRequest(provider=info))

    async def submit(self, party_id: str, dag: str) -> str:
        answer = await self.client(party_id).SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
        return answer.job_id

    async def wait_job(self, party_id: str, job_id: str, timeout_s: float = 60) -> common_pb2.JobView:
        client = self.client(party_id)
        deadline = time.monotonic() + timeout_s
        while True:
            answer = await client.QueryJob(client_pb2.QueryJobRequest(job_id=job_id), timeout=10)
            if answer.job.status in END:
                return answer.job
            assert time.monotonic() < deadline, f"job {job_id} still {answer.job.status} after {timeout_s}s"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


@asynccontextmanager
async def federation(
    tmp_path: Path, party_ids: list[str], *, tls: bool = False, ca_per_party: bool = False, **overrides: Any
) -> AsyncIterator[Federation]:
    """Start one in-process node per party id, wire their routes, stop them all at the end.

    With tls=True a federation CA, node certs and an admin user ("root") per party are provisioned."""
    pki_root = None
    if tls:
        pki_root = provision(
            tmp_path / "pki",
            [PartySpec(pid, "127.0.0.1:0", admins=("root",)) for pid in party_ids],
            ca_per_party=ca_per_party,
        )
    async with anyio.create_task_group() as group:
        nodes = {
            pid: Node(
                node_config(
                    pid,
                    tmp_path / f"node_{pid}",
                    **({"tls": tls_settings(pki_root, pid)} if pki_root else {}),
                    **overrides,
                )
            )
            for pid in party_ids
        }
        for node in nodes.values():
            await node.start(group)
        for node in nodes.values():
            for pid, other in nodes.items():
                node.gateway.set_route(pid, other.addresses.peer)
        fed = Federation(nodes, pki_root)
        try:
            yield fed
        finally:
            await fed.close()
            for node in nodes.values():
                await node.shutdown()
            group.cancel_scope.cancel()


async def assert_eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 10, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"not true after {timeout_s}s: {what}"
        await asyncio.sleep(0.05)
