"""What the HTTP API's handlers share: the servicer, the signature check, uploads answered as jobs."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509

from fate_grpc.board.calls import Credentials
from fate_grpc.httpapi.caller import Caller, SignatureUsers
from fate_grpc.security.identity import User

MAX_REMEMBERED_UPLOADS = 1000
LOCAL_PARTY_ID = "0"
"""FATE runs an upload as a job of role local at party 0, and its clients query it so."""


class UploadJobs:
    """Uploads as the jobs FATE-Flow makes of them, so a client can query an upload's job id.

    FATE runs an upload as a one-party job and answers its job id; a client (the pipeline's
    `transform_local_file_to_dataframe`) then polls `job/query` until it succeeds. Here an upload is
    finished when its request is answered, so its id names a job that has already succeeded. The most
    recent uploads are remembered (in memory: a node restart forgets them).
    """

    def __init__(self, party_id: str) -> None:
        self._party_id = party_id
        self._rows: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def finished(self, namespace: str, name: str) -> str:
        job_id = f"upload_{uuid.uuid4().hex[:16]}"
        now = int(time.time() * 1000)
        self._rows[job_id] = {
            "job_id": job_id,
            "role": "local",
            "party_id": LOCAL_PARTY_ID,
            "status": "success",
            "progress": 100,
            "description": f"upload {namespace}.{name}",
            "create_time": now,
            "start_time": now,
            "end_time": now,
            "elapsed": 0,
        }
        while len(self._rows) > MAX_REMEMBERED_UPLOADS:
            self._rows.popitem(last=False)
        return job_id

    def row(self, job_id: str) -> dict[str, Any] | None:
        return self._rows.get(job_id) if job_id else None


class HttpApiState:
    """The node's parts the handlers use."""

    def __init__(
        self, servicer: Any, signatures: SignatureUsers, party_id: str, server_dirs: tuple[Path, ...]
    ) -> None:
        self.servicer = servicer
        self.signatures = signatures
        self.uploads = UploadJobs(party_id)
        self.party_id = party_id
        self.server_dirs = tuple(d.resolve() for d in server_dirs)


STATE_KEY = web.AppKey("fate_flow_http_state", HttpApiState)
SIGNED_USER_KEY = web.RequestKey("fate_flow_signed_user", User)


def state_of(request: web.Request) -> HttpApiState:
    return request.config_dict[STATE_KEY]


def uploads_of(request: web.Request) -> UploadJobs:
    return state_of(request).uploads


def caller_of(request: web.Request) -> Caller:
    """The user API's servicer, called with this request's credentials."""
    user = request.get(SIGNED_USER_KEY)
    credentials = Credentials(
        authorization=request.headers.get("Authorization", ""),
        certificate=_client_certificate(request),
        peer=f"http {request.remote or ''}",
    )
    return Caller(state_of(request).servicer, credentials, user)


def _client_certificate(request: web.Request) -> x509.Certificate | None:
    """The certificate the client presented, already verified against the client CA by the handshake."""
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    return x509.load_der_x509_certificate(der) if der else None
