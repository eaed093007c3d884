"""serve(): one party's node - gRPC servers, scheduler, task supervisor and store in one task group."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio
import grpc
from anyio.abc import TaskGroup

from fate_grpc.board import board_app
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.addresses import is_loopback_address, split_address
from fate_grpc.common.background import Background, crashed_loop
from fate_grpc.components.providers import ProviderRef, ProviderRegistry
from fate_grpc.control.v1 import control_pb2
from fate_grpc.data.outputs import OutputQueries
from fate_grpc.data.paths import NodePaths
from fate_grpc.data.tables import TableService
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.errors import FateGrpcError
from fate_grpc.http.server import HttpServer, HttpTls
from fate_grpc.httpapi.mount import MAX_BODY_BYTES, node_flow_app
from fate_grpc.node.config import NodeConfig
from fate_grpc.observability.metrics import metrics_app
from fate_grpc.observability.operations import NodeOperations
from fate_grpc.participant.job_checks import JobCheckLimits, JobChecks
from fate_grpc.participant.job_cleaner import JobCleaner
from fate_grpc.participant.participant import Participant
from fate_grpc.participant.task_runtime import TaskRuntime
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway, channel_options
from fate_grpc.runner.supervisor import TaskSupervisor
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_creation import JobCreator
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.outbox import OutboxSender
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.security.identity import ClientAuthenticator, PeerAuthenticator
from fate_grpc.security.permissions import PermissionPolicy
from fate_grpc.security.tls import TlsMaterial, client_server_credentials, peer_server_credentials
from fate_grpc.services.client_servicer import ClientServicer
from fate_grpc.services.control_servicer import ControlServicer
from fate_grpc.services.registry import add_servicer
from fate_grpc.services.transfer_servicer import TransferServicer
from fate_grpc.services.worker_servicer import WorkerServicer
from fate_grpc.store.sqlite_store import SqliteStore
from fate_grpc.transfer.mailbox import Mailbox
from fate_grpc.transfer.v1 import transfer_pb2
from fate_grpc.worker.v1 import worker_pb2

log = logging.getLogger("fate_grpc.node")

SHUTDOWN_GRACE_S = 3.0
CONTROL_SERVICE = control_pb2.DESCRIPTOR.services_by_name["ControlService"]
TRANSFER_SERVICE = transfer_pb2.DESCRIPTOR.services_by_name["TransferService"]
CLIENT_SERVICE = client_pb2.DESCRIPTOR.services_by_name["ClientService"]
WORKER_SERVICE = worker_pb2.DESCRIPTOR.services_by_name["WorkerService"]
PEER_SERVICES = (CONTROL_SERVICE, TRANSFER_SERVICE)


@dataclass
class BoundAddresses:
    """Where the node actually listens (ports resolved when the conf says 0)."""

    peer: str = ""
    client: str = ""
    worker: str = ""
    http: str = ""


@dataclass
class Node:
    """A running node. Create with `Node(config)`, then `await node.start(task_group)`."""

    config: NodeConfig
    addresses: BoundAddresses = field(default_factory=BoundAddresses)

    def __post_init__(self) -> None:
        cfg = self.config
        self.paths = NodePaths(cfg.data_dir)
        self.providers = ProviderRegistry.with_builtin()
        # One live mapping: registering a provider adds its components here.
        self.catalog = self.providers.catalog
        self.ops = _operations(cfg)
        self.store = self.ops.timed(SqliteStore(cfg.store_path))
        self.tls = TlsMaterial.load(cfg.tls) if cfg.tls else None
        self.gateway = PartyGateway(
            cfg.party_id,
            cfg.routes,
            max_message_bytes=cfg.limits.max_message_bytes,
            tls=self.tls,
            interceptors=self.ops.channel_interceptors,
        )
        self.peers = PeerAuthenticator(
            tls=cfg.tls is not None, partner_cas=cfg.tls.partner_cas if cfg.tls else None
        )
        self.client_auth = ClientAuthenticator(
            own_party_id=cfg.party_id,
            required=cfg.client_auth_required,
            client_ca=(cfg.tls.client_ca or cfg.tls.trust) if cfg.tls else None,
            store=self.store,
        )
        self.permissions = PermissionPolicy(
            own_party_id=cfg.party_id, store=self.store, allow_by_default=cfg.partners_allowed_by_default
        )
        self.mailbox = Mailbox(
            self.paths.mailbox_dir,
            memory_budget_bytes=cfg.limits.mailbox_memory_bytes,
            chunk_bytes=cfg.limits.chunk_bytes,
        )
        self.dags = DagCache(self.store, self.catalog)
        # Every coroutine the node's parts start runs in the node's task group, through this.
        self.background = Background()
        self._servers: list[grpc.aio.Server] = []
        self._stopped = asyncio.Event()
        self._shutdown_done = False
        self.participant = Participant(
            party_id=cfg.party_id,
            store=self.store,
            gateway=self.gateway,
            catalog=self.catalog,
            dags=self.dags,
            mailbox=self.mailbox,
            spawn=self.spawn,
            rpc_timeout_s=cfg.timeouts.rpc_s,
            report_retry_s=cfg.timeouts.report_retry_s,
        )
        self.supervisor = TaskSupervisor(
            python=cfg.task_python,
            on_exit=self._on_task_exit,
            fork_server=cfg.fork_server,
            fork_server_log=self.paths.logs_dir / "fork-server.log",
            background=self.background,
        )
        self.warehouse = ModelWarehouse(store=self.store, paths=self.paths, party_id=cfg.party_id)
        self.outputs = OutputQueries(
            store=self.store,
            paths=self.paths,
            warehouse=self.warehouse,
            party_id=cfg.party_id,
            routes=dict(cfg.routes),
        )
        self.runtime = TaskRuntime(
            store=self.store,
            catalog=self.catalog,
            dags=self.dags,
            paths=self.paths,
            supervisor=self.supervisor,
            participant=self.participant,
            receive_timeout_s=cfg.timeouts.task_receive_s,
            providers=self.providers,
            warehouse=self.warehouse,
        )
        self.participant.runtime = self.runtime
        self.job_checks = JobChecks(
            party_id=cfg.party_id,
            store=self.store,
            providers=self.providers,
            permissions=self.permissions,
            limits=JobCheckLimits(
                total_cores=cfg.resources.cores,
                max_unfinished_jobs_per_partner=cfg.limits.max_unfinished_jobs_per_partner,
            ),
        )
        self.participant.checks = self.job_checks
        self.cleaner = JobCleaner(
            store=self.store, paths=self.paths, dags=self.dags, mailbox=self.mailbox, warehouse=self.warehouse
        )
        self.events = JobEvents()
        self.job_log = JobLog(self.paths.jobs_dir)
        self.outbox = OutboxSender(store=self.store, gateway=self.gateway, rpc_timeout_s=cfg.timeouts.rpc_s)
        self.scheduler = Scheduler(
            party_id=cfg.party_id,
            store=self.store,
            gateway=self.gateway,
            dags=self.dags,
            catalog=self.catalog,
            spawn=self.spawn,
            rpc_timeout_s=cfg.timeouts.rpc_s,
            collect_after_s=cfg.scheduler.collect_after_s,
            retry_backoff_s=cfg.scheduler.retry_backoff_s,
            default_task_timeout_s=cfg.scheduler.default_task_timeout_s,
            party_unreachable_s=cfg.timeouts.party_unreachable_s,
            max_task_attempts=cfg.scheduler.max_task_attempts,
            job_log=self.job_log,
            events=self.events,
            outbox=self.outbox,
        )
        self.creator = JobCreator(
            party_id=cfg.party_id,
            store=self.store,
            gateway=self.gateway,
            catalog=self.catalog,
            timeout_s=cfg.timeouts.job_create_s,
        )
        self.views = JobViews(
            party_id=cfg.party_id, store=self.store, dags=self.dags, catalog=self.catalog, events=self.events
        )
        self.views.reachability = self.scheduler.reachability
        self.tables = TableService(store=self.store, paths=self.paths, server_data_dirs=cfg.server_data_dirs)

    def _mount_http(self, http: HttpServer) -> None:
        """Sub-applications of the HTTP port, by prefix; each is behind the user API's authentication
        unless mounted with authenticated=False. Runs once the servers (and `client_servicer`) exist."""
        http.mount("/metrics", metrics_app(self.ops.metrics, self.store))
        # FATE-Flow 2.2's client API for fate_client; it authenticates callers itself (FATE's app signature).
        http.mount("/v2", node_flow_app(self), authenticated=False, max_body_bytes=MAX_BODY_BYTES)
        # The board's page and scripts hold no data; each /board/api/ answer is a user-API servicer
        # method, which authenticates the caller itself (a browser loads the page before its token).
        http.mount("/board", board_app(self.client_servicer, self.catalog), authenticated=False)

    # -- background work -------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine in the node's task group; its failure is logged, never fatal to the node."""
        self.background.spawn(coro)

    async def _on_task_exit(self, key: Any, code: int, stopped: bool) -> None:
        await self.runtime.on_process_exit(key, code, stopped)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, task_group: TaskGroup) -> None:
        self.background.attach(task_group)
        await self.ops.health.starting()
        self.paths.ensure()
        await self.store.open()
        await self._load_providers()
        # Before serving: the tasks that were running here when the node went down are lost (their
        # processes died with it); the scheduler of each is told once this node serves again.
        lost = await self.participant.recover_after_restart()
        unfinished = await self.scheduler.unfinished_jobs()
        await self._start_servers()
        http = self.ops.http_server(self.client_auth)
        if http is not None:
            self._mount_http(http)
            await self.ops.start_http(task_group)
        self.addresses.http = self.ops.facts.http_address
        if self.config.party_id not in self.gateway.routes():
            self.gateway.set_route(self.config.party_id, _dialable(self.addresses.peer))
        self.supervisor.set_worker_address(self.addresses.worker)
        self.background.spawn(self.supervisor.start_fork_server(), name="fork server start")
        for key in lost:
            self.participant.report_soon(key)
        if unfinished:
            # Jobs scheduled here carry on: each party is asked how their running tasks stand.
            self.spawn(self.scheduler.resume_after_restart(unfinished))
        # Jobs this party takes part in may have ended while it was away.
        self.spawn(_discard(self.participant.catch_up_with_schedulers()))
        self.background.run_loop("scheduler sweep", self._sweep_loop)
        # Messages to other parties not yet acknowledged when the node went down are sent on.
        self.background.run_loop("outbox", functools.partial(self.outbox.run, self._stopped))
        await self.ops.health.serving()
        log.info(
            "party %s node serving peers on %s, users on %s%s",
            self.config.party_id,
            self.addresses.peer,
            self.addresses.client,
            f", HTTP on {self.addresses.http}" if self.addresses.http else "",
        )

    async def _load_providers(self) -> None:
        for record in await self.store.list_providers():
            ref = ProviderRef(record.name, record.version, record.device)
            try:
                self.providers.add(ref, record.module, record.path)
            except FateGrpcError as exc:
                log.error("provider %s is registered but cannot be loaded: %s", ref, exc.message)

    async def _start_servers(self) -> None:
        cfg = self.config
        peer = self._grpc_server("user")
        add_servicer(
            peer,
            ControlServicer(
                participant=self.participant,
                runtime=self.runtime,
                scheduler=self.scheduler,
                creator=self.creator,
                views=self.views,
                store=self.store,
                dags=self.dags,
                peers=self.peers,
                max_pending_creates_per_partner=cfg.limits.max_pending_creates_per_partner,
                checks=self.job_checks,
                cleaner=self.cleaner,
                max_dag_bytes=cfg.limits.max_dag_bytes,
            ),
            CONTROL_SERVICE,
        )
        add_servicer(
            peer,
            TransferServicer(
                party_id=cfg.party_id,
                store=self.store,
                dags=self.dags,
                mailbox=self.mailbox,
                max_chunk_bytes=cfg.limits.chunk_bytes,
                peers=self.peers,
            ),
            TRANSFER_SERVICE,
        )
        self.client_servicer = client_servicer = self._client_servicer()
        if cfg.client_listen is None:
            add_servicer(peer, client_servicer, CLIENT_SERVICE)
        self.ops.add_to(peer, PEER_SERVICES if cfg.client_listen else (*PEER_SERVICES, CLIENT_SERVICE))
        peer_credentials = peer_server_credentials(self.tls) if self.tls else None
        self.addresses.peer = _bind(peer, cfg.listen, peer_credentials)
        if self.tls is None:
            self._warn_plaintext(cfg.listen)
        self._servers.append(peer)
        if cfg.client_listen is not None:
            client = self._grpc_server("user")
            add_servicer(client, client_servicer, CLIENT_SERVICE)
            self.ops.add_to(client, (CLIENT_SERVICE,))
            # Users on another host need TLS; a loopback-only client port may serve tokens in plaintext.
            use_tls = self.tls is not None and not is_loopback_address(cfg.client_listen)
            credentials = None
            if use_tls and self.tls:
                demand = cfg.client_auth.certificates == "required"
                credentials = client_server_credentials(self.tls, require_certificate=demand)
            self.addresses.client = _bind(client, cfg.client_listen, credentials)
            self._servers.append(client)
        else:
            self.addresses.client = self.addresses.peer
        worker = self._grpc_server("task")
        add_servicer(
            worker,
            WorkerServicer(
                supervisor=self.supervisor,
                runtime=self.runtime,
                mailbox=self.mailbox,
                gateway=self.gateway,
                max_chunk_bytes=cfg.limits.chunk_bytes,
                transfer_timeout_s=cfg.timeouts.transfer_s,
            ),
            WORKER_SERVICE,
        )
        self.ops.add_to(worker, (WORKER_SERVICE,))
        # Task processes are local children: the worker API never leaves loopback.
        self.addresses.worker = _bind(worker, "127.0.0.1:0")
        self._servers.append(worker)
        for server in self._servers:
            await server.start()

    def _grpc_server(self, default_peer: str) -> grpc.aio.Server:
        """A server observed by the node's metrics and logs, with health checking and reflection."""
        interceptors = self.ops.server_interceptors(default_peer, self.gateway.routes)
        options = channel_options(self.config.limits.max_message_bytes)
        return grpc.aio.server(options=options, interceptors=interceptors)

    def _client_servicer(self) -> ClientServicer:
        cfg = self.config
        return ClientServicer(
            party_id=cfg.party_id,
            store=self.store,
            gateway=self.gateway,
            catalog=self.catalog,
            creator=self.creator,
            scheduler=self.scheduler,
            views=self.views,
            tables=self.tables,
            ready_task_processes=lambda: int(self.supervisor.fork_server_ready),
            auth=self.client_auth,
            tls=self.tls is not None,
            default_policy="allow" if cfg.partners_allowed_by_default else "deny",
            dags=self.dags,
            paths=self.paths,
            job_log=self.job_log,
            providers=self.providers,
            outputs=self.outputs,
            warehouse=self.warehouse,
            max_chunk_bytes=cfg.limits.chunk_bytes,
            rpc_timeout_s=cfg.timeouts.rpc_s,
            submit_timeout_s=cfg.timeouts.job_create_s * 3,
            max_dag_bytes=cfg.limits.max_dag_bytes,
            force_end_job=self.participant.force_end_job,
            facts=self.ops.facts,
        )

    def _warn_plaintext(self, listen: str) -> None:
        if is_loopback_address(listen):
            log.warning(
                "PLAINTEXT: node %s serves without TLS on loopback %s (local simulation only)",
                self.config.party_id,
                listen,
            )
        else:
            log.warning(
                "PLAINTEXT: node %s serves without TLS on %s - traffic between parties is not protected",
                self.config.party_id,
                listen,
            )

    async def _sweep_loop(self) -> None:
        interval = self.config.scheduler.sweep_interval_s
        while not self._stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=interval)
            if self._stopped.is_set():
                return
            await _guarded(self.scheduler.sweep())

    async def shutdown(self) -> None:
        """Stop accepting, drain, stop task processes, close the store. Idempotent."""
        if self._shutdown_done:
            return
        self._shutdown_done = True
        await self.ops.stopping()
        self._stopped.set()
        await asyncio.gather(*(s.stop(SHUTDOWN_GRACE_S) for s in self._servers), return_exceptions=True)
        self.scheduler.cancel_timers()
        await self.supervisor.stop_all()
        self.job_log.close_all()
        await self.gateway.close()
        await self.store.close()
        log.info("party %s node stopped", self.config.party_id)


async def _guarded(coro: Coroutine[Any, Any, None]) -> None:
    try:
        await coro
    except anyio.get_cancelled_exc_class():
        raise
    except Exception:
        log.exception("background work failed")


async def _discard(work: Coroutine[Any, Any, object]) -> None:
    await work


def _bind(server: grpc.aio.Server, address: str, credentials: grpc.ServerCredentials | None = None) -> str:
    host, _ = split_address(address)
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return f"{host}:{port}"


def _operations(cfg: NodeConfig) -> NodeOperations:
    tls = cfg.tls
    http_tls = None
    if tls is not None:
        # The HTTP port asks of users what the user port's handshake asks.
        demand = cfg.client_auth.certificates == "required"
        http_tls = HttpTls(tls.cert, tls.key, tls.client_ca or tls.trust, require_certificate=demand)
    return NodeOperations(
        (*PEER_SERVICES, CLIENT_SERVICE, WORKER_SERVICE),
        cores_budget=cfg.resources.cores,
        tls=http_tls,
        http_listen=cfg.http.listen if cfg.http else None,
    )


def _dialable(address: str) -> str:
    host, port = split_address(address)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"{host}:{port}"


async def serve(
    config: NodeConfig, *, ready: anyio.Event | None = None, stop: anyio.Event | None = None
) -> None:
    """Run a node until `stop` is set (or the surrounding scope is cancelled), then shut down in order.

    Raises:
        LoopCrashed: one of the node's long-lived loops raised (the node shut down first).
    """
    stop = stop or anyio.Event()
    try:
        async with anyio.create_task_group() as task_group:
            node = Node(config)
            try:
                await node.start(task_group)
                if ready is not None:
                    ready.set()
                await stop.wait()
            finally:
                with anyio.CancelScope(shield=True):
                    await node.shutdown()
                task_group.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        crashed = crashed_loop(group)
        if crashed is None:
            raise
        raise crashed from crashed.__cause__
