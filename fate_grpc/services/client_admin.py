"""The admin part of ClientService: client tokens, partner permissions, providers, partner reachability."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from fate_grpc.client.v1 import client_pb2, jobs_pb2
from fate_grpc.components.providers import BUILTIN_NAME, Provider, ProviderRegistry, parse_provider
from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.observability.node_facts import NodeFacts
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.security.identity import ClientAuthenticator, hash_token, new_token
from fate_grpc.security.permissions import COMPONENT, DATASET, GrantRequest, dataset_value
from fate_grpc.services.edge import unary_edge
from fate_grpc.store.interface import Store
from fate_grpc.store.records import GrantRecord, ProviderRecord, TokenRecord

MAX_TOKEN_LIFETIME_S = 10 * 365 * 24 * 3600
DEFAULT_PARTNER_CHECK_S = 2.0
MAX_PARTNER_CHECK_S = 30.0
# A job id no job can have: asking a partner for its view costs the partner one indexed lookup and
# proves the whole path (network, TLS, the partner's service) without side effects.
PROBE_JOB_ID = "reachability-probe"
UNREACHABLE = {ErrorCode.PARTY_UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.NODE_UNREACHABLE}
# The partner's node answered, but would not serve this node: worth showing, it breaks every job.
REFUSED = {ErrorCode.PERMISSION_DENIED, ErrorCode.UNAUTHENTICATED}


def _grant(record: GrantRecord) -> client_pb2.Grant:
    return client_pb2.Grant(
        party_id=record.party_id, kind=record.kind, value=record.value, create_time_ms=record.create_time_ms
    )


class ClientAdminRpcs:
    """Mixed into ClientServicer; needs `_auth`, `_store` and `_default_policy`."""

    _auth: ClientAuthenticator
    _store: Store
    _default_policy: str
    _providers: ProviderRegistry
    _gateway: PartyGateway
    _party_id: str
    _facts: NodeFacts

    async def _operator_info(self) -> dict[str, Any]:
        """GetNodeInfo's fields for operators: certificate expiry, cores, the HTTP port."""
        return {
            "tls_cert_expire_time_ms": self._facts.tls_cert_expire_time_ms,
            "cores_total": self._facts.cores_total,
            "cores_in_use": await self._store.cores_in_use(),
            "http_address": self._facts.http_address,
        }

    @unary_edge
    async def CreateToken(
        self, request: client_pb2.CreateTokenRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.CreateTokenResponse:
        await self._auth.user(context, admin=True)
        check_name(request.name, "name")
        if not 0 <= request.expires_s <= MAX_TOKEN_LIFETIME_S:
            raise invalid_argument("expires_s must be between 0 and ten years", field_path="expires_s")
        token = new_token()
        expire = int(time.time() * 1000) + request.expires_s * 1000 if request.expires_s else 0
        await self._store.put_token(
            TokenRecord(
                token_hash=hash_token(token), name=request.name, is_admin=request.admin, expire_time_ms=expire
            )
        )
        return client_pb2.CreateTokenResponse(
            name=request.name, token=token, admin=request.admin, expire_time_ms=expire
        )

    @unary_edge
    async def ListTokens(
        self, request: client_pb2.ListTokensRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.ListTokensResponse:
        await self._auth.user(context, admin=True)
        tokens = await self._store.list_tokens()
        return client_pb2.ListTokensResponse(
            tokens=[
                client_pb2.TokenInfo(
                    name=t.name,
                    admin=t.is_admin,
                    create_time_ms=t.create_time_ms,
                    expire_time_ms=t.expire_time_ms,
                )
                for t in tokens
            ]
        )

    @unary_edge
    async def RevokeToken(
        self, request: client_pb2.RevokeTokenRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.RevokeTokenResponse:
        await self._auth.user(context, admin=True)
        check_name(request.name, "name")
        return client_pb2.RevokeTokenResponse(revoked=await self._store.delete_token(request.name))

    @unary_edge
    async def GrantPermission(
        self, request: client_pb2.GrantPermissionRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.GrantPermissionResponse:
        await self._auth.user(context, admin=True)
        grant = GrantRequest(
            party_id=check_party_id(request.party_id),
            components=tuple(request.components),
            datasets=tuple((d.namespace, d.name) for d in request.datasets),
        )
        await self._store.add_grants(grant.records())
        grants = await self._store.list_grants(request.party_id)
        return client_pb2.GrantPermissionResponse(grants=[_grant(g) for g in grants])

    @unary_edge
    async def RevokePermission(
        self, request: client_pb2.RevokePermissionRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.RevokePermissionResponse:
        await self._auth.user(context, admin=True)
        party_id = check_party_id(request.party_id)
        if request.all:
            return client_pb2.RevokePermissionResponse(removed=await self._store.remove_grants(party_id))
        if not request.components and not request.datasets:
            raise invalid_argument("say what to revoke: components, datasets, or all", field_path="all")
        removed = 0
        for component in request.components:
            removed += await self._store.remove_grants(party_id, COMPONENT, component)
        for dataset in request.datasets:
            value = dataset_value(dataset.namespace, dataset.name)
            removed += await self._store.remove_grants(party_id, DATASET, value)
        return client_pb2.RevokePermissionResponse(removed=removed)

    @unary_edge
    async def QueryPermission(
        self, request: client_pb2.QueryPermissionRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.QueryPermissionResponse:
        await self._auth.user(context)
        party_id = check_party_id(request.party_id) if request.party_id else None
        grants = await self._store.list_grants(party_id)
        return client_pb2.QueryPermissionResponse(
            grants=[_grant(g) for g in grants], default_policy=self._default_policy
        )

    @unary_edge
    async def RegisterProvider(
        self, request: client_pb2.RegisterProviderRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.RegisterProviderResponse:
        await self._auth.user(context, admin=True)
        info = request.provider
        ref = parse_provider(f"{info.name}:{info.version}@{info.device or 'local'}")
        if ref.name == BUILTIN_NAME:
            raise invalid_argument(f"the provider name {BUILTIN_NAME} is the built-in one", field_path="name")
        provider = self._providers.add(ref, info.module, info.path)
        await self._store.put_provider(
            ProviderRecord(
                name=ref.name, version=ref.version, device=ref.device, module=info.module, path=info.path
            )
        )
        return client_pb2.RegisterProviderResponse(provider=_provider_info(provider))

    @unary_edge
    async def QueryProvider(
        self, request: client_pb2.QueryProviderRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.QueryProviderResponse:
        await self._auth.user(context)
        providers = [p for p in self._providers.describe() if not request.name or p.ref.name == request.name]
        return client_pb2.QueryProviderResponse(providers=[_provider_info(p) for p in providers])

    @unary_edge
    async def DeleteProvider(
        self, request: client_pb2.DeleteProviderRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.DeleteProviderResponse:
        await self._auth.user(context, admin=True)
        ref = parse_provider(f"{request.name}:{request.version}@{request.device or 'local'}")
        if ref.name == BUILTIN_NAME:
            raise invalid_argument("the built-in provider cannot be deleted", field_path="name")
        deleted = await self._store.delete_provider(ref.name, ref.version, ref.device)
        self._providers.remove(ref)
        return client_pb2.DeleteProviderResponse(deleted=deleted)

    @unary_edge
    async def CheckPartners(
        self, request: jobs_pb2.CheckPartnersRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.CheckPartnersResponse:
        await self._auth.user(context)
        if not 0 <= request.timeout_s <= MAX_PARTNER_CHECK_S:
            raise invalid_argument(
                f"timeout_s must be between 0 and {MAX_PARTNER_CHECK_S:g}", field_path="timeout_s"
            )
        timeout_s = request.timeout_s or DEFAULT_PARTNER_CHECK_S
        partners = sorted(p for p in self._gateway.routes() if p != self._party_id)
        checks = await asyncio.gather(*(self._check_partner(p, timeout_s) for p in partners))
        return jobs_pb2.CheckPartnersResponse(partners=checks)

    async def _check_partner(self, party_id: str, timeout_s: float) -> jobs_pb2.PartnerReachability:
        """One round trip to the partner's node; any answer from its service means it is reachable."""
        address = self._gateway.address_of(party_id)
        started = time.monotonic()
        error, refused = "", ""
        try:
            await self._gateway.get_job_view(
                party_id, control_pb2.GetJobViewRequest(job_id=PROBE_JOB_ID), deadline_s=timeout_s
            )
        except FateGrpcError as exc:
            if exc.code in UNREACHABLE:
                error = exc.message
            elif exc.code in REFUSED:
                refused = f"it answers but refuses this node: {exc.message}"
        latency_ms = int((time.monotonic() - started) * 1000)
        return jobs_pb2.PartnerReachability(
            party_id=party_id,
            address=address,
            reachable=not error,
            latency_ms=latency_ms,
            error=error or refused,
        )


def _provider_info(provider: Provider) -> client_pb2.ProviderInfo:
    return client_pb2.ProviderInfo(
        name=provider.ref.name,
        version=provider.ref.version,
        device=provider.ref.device,
        module=provider.module,
        path=provider.path,
        components=sorted(provider.components),
        builtin=provider.builtin,
    )
