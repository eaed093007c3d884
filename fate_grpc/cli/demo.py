"""The one-command local simulation: two parties, the breast tables, reader -> psi."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from fate_grpc.cli.client import FlowClient
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import FateGrpcError
from fate_grpc.flow_answers.jobs import job_status_name, task_rows

GUEST, HOST = "9999", "10000"


def find_examples(explicit: Path | None) -> Path:
    candidates = (
        [explicit]
        if explicit
        else [Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples"]
    )
    for candidate in candidates:
        if candidate and (candidate / "dags" / "psi.yaml").is_file():
            return candidate
    raise SystemExit("cannot find the examples/ folder (run from the repository root or pass --examples)")


def upload(client: FlowClient, file: Path, name: str, label: str) -> client_pb2.UploadTableResponse:
    header = client_pb2.UploadTableHeader(
        namespace="experiment",
        name=name,
        head=True,
        delimiter=",",
        match_id_name="id",
        label_name=label,
        overwrite=True,
        source_file=file.name,
    )
    return client.upload_table(header, file)


def say(text: str) -> None:
    print(text, flush=True)


def run_demo(workdir: Path, examples: Path | None, *, tls: bool = False) -> int:
    examples = find_examples(examples)
    shutil.rmtree(workdir, ignore_errors=True)
    mode = "mutual TLS with provisioned certificates" if tls else "plaintext on loopback"
    say(f"starting the nodes of guest {GUEST} and host {HOST} as separate processes ({mode})")
    say(f"workdir: {workdir}")
    try:
        with LocalCluster(workdir, [GUEST, HOST], tls=tls) as cluster:
            for pid, party in cluster.parties.items():
                say(f"  party {pid}: node at {party.address}, conf {party.conf_path}")
            guest, host = cluster.client(GUEST), cluster.client(HOST)
            g = upload(guest, examples / "data" / "breast_hetero_guest.csv", "breast_hetero_guest", "y").table
            h = upload(host, examples / "data" / "breast_hetero_host.csv", "breast_hetero_host", "").table
            say(f"uploaded experiment.{g.name} ({g.count} rows) at {GUEST}")
            say(f"uploaded experiment.{h.name} ({h.count} rows) at {HOST}")
            if tls:
                host.grant(GUEST, ["reader", "psi"], [("experiment", h.name)])
                say(f"host {HOST} granted guest {GUEST}: components reader, psi; table experiment.{h.name}")
            dag = (examples / "dags" / "psi.yaml").read_text(encoding="utf-8")
            started = time.monotonic()
            job_id = guest.submit_job(dag, user_name="demo").job_id
            say(f"submitted reader -> psi to party {GUEST}: job {job_id}")
            view = guest.wait_job(job_id, timeout_s=300, interval_s=0.05)
            wall = time.monotonic() - started
            status = job_status_name(view.status)
            say(f"job {job_id} ended {status} in {wall:.2f}s (submit to end, as seen by the client)")
            for row in task_rows(guest.query_tasks(job_id).tasks):
                say(
                    f"  {row['task_name']:<10} {row['role']:<6} {row['party_id']:<6} {row['status']:<8} "
                    f"{row['elapsed']:>6} ms {row['error']}"
                )
            ok = job_status_name(view.status) == "success"
            if ok:
                for client, role, pid in ((guest, "guest", GUEST), (host, "host", HOST)):
                    table = client.query_table(f"{job_id}_psi_0", f"{role}_{pid}_output_data_0").table
                    where = f"table {table.namespace}.{table.name}"
                    say(f"intersection at {role} {pid}: {table.count} rows ({where})")
            else:
                say(f"reason: {view.status_reason}")
            say("stopping the nodes")
    except FateGrpcError as exc:
        print(json.dumps({"code": int(exc.code), "message": exc.message}, indent=2))
        return exc.exit_code
    return 0 if ok else 1
