"""The RPC observer's pure parts: method labels, log fields from requests, the actions it logs."""

from __future__ import annotations

import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.observability.rpc_observer import JOB_ACTIONS, message_bytes, method_label, request_log_fields
from fate_grpc.services.registry import MalformedRequest

SERVICES = {
    "ClientService": client_pb2.DESCRIPTOR.services_by_name["ClientService"],
    "ControlService": control_pb2.DESCRIPTOR.services_by_name["ControlService"],
}


def test_method_label_drops_the_package() -> None:
    assert method_label("/fate_grpc.control.v1.ControlService/StartTask") == "ControlService/StartTask"


@pytest.mark.parametrize("action", sorted(JOB_ACTIONS))
def test_every_logged_action_is_a_method_of_the_api(action: str) -> None:
    service, method = action.split("/")

    assert method in SERVICES[service].methods_by_name


def test_a_request_names_its_job_task_and_attempt() -> None:
    request = control_pb2.StartTaskRequest(job_id="202611301200000000000001", task_name="psi_0", attempt=0)

    assert request_log_fields(request) == {
        "job_id": "202611301200000000000001",
        "task": "psi_0",
        "attempt": 0,
    }


def test_a_request_without_such_fields_names_nothing() -> None:
    assert request_log_fields(client_pb2.GetNodeInfoRequest()) == {}
    assert request_log_fields(object()) == {}


def test_a_request_that_did_not_parse_is_not_touched() -> None:
    unparsed = MalformedRequest()

    assert request_log_fields(unparsed) == {}
    assert message_bytes(unparsed) == 0
