"""The DAGs of the chaos runs: reader -> psi -> coordinated_lr -> evaluation across guest, host and
arbiter (every kind of party, a Paillier key and a crypto pool in psi), and a small next job."""

from __future__ import annotations

from typing import Any

import yaml

GUEST, HOST, ARBITER = "9999", "10000", "9998"
PARTIES = (GUEST, HOST, ARBITER)
ROLES = {GUEST: "guest", HOST: "host", ARBITER: "arbiter"}
# The tasks of the chaos DAG at each party long enough to be caught running (evaluation takes ~0.1 s).
TASKS_AT = {GUEST: ("reader_0", "psi_0", "lr_0"), HOST: ("reader_0", "psi_0", "lr_0"), ARBITER: ("lr_0",)}


def _parties(*party_ids: str) -> list[dict[str, Any]]:
    return [{"role": ROLES[p], "party_id": [p]} for p in party_ids]


def _data(task: str, key: str, *party_ids: str) -> dict[str, Any]:
    source: dict[str, Any] = {"producer_task": task, "output_artifact_key": key}
    if party_ids:
        source["parties"] = _parties(*party_ids)
    return {"task_output_artifact": source}


def _document(tasks: dict[str, Any], party_ids: tuple[str, ...]) -> str:
    readers = {
        f"{ROLES[p]}_{p}": {
            "parties": _parties(p),
            "tasks": {"reader_0": {"parameters": {"name": f"chaos_{ROLES[p]}", "namespace": "experiment"}}},
        }
        for p in (GUEST, HOST)
    }
    document = {
        "schema_version": "2.1.0",
        "kind": "fate",
        "dag": {
            "parties": _parties(*party_ids),
            "conf": {"scheduler_party_id": GUEST},
            "party_tasks": readers,
            "stage": "train",
            "tasks": tasks,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def _reader_and_psi() -> dict[str, Any]:
    return {
        "reader_0": {"component_ref": "reader", "parties": _parties(GUEST, HOST), "stage": "default"},
        "psi_0": {
            "component_ref": "psi",
            "dependent_tasks": ["reader_0"],
            "inputs": {"data": {"input_data": _data("reader_0", "output_data")}},
            "parties": _parties(GUEST, HOST),
            "stage": "default",
        },
    }


def chaos_dag(*, epochs: int = 3, batch_size: int = 3000) -> str:
    """Four tasks over three parties; coordinated_lr runs at all three (the arbiter holds the key), and
    with 2,000 rows or more per batch the guest and host encrypt on a pool of crypto worker processes."""
    tasks = _reader_and_psi()
    tasks["lr_0"] = {
        "component_ref": "coordinated_lr",
        "dependent_tasks": ["psi_0"],
        "inputs": {"data": {"train_data": _data("psi_0", "output_data", GUEST, HOST)}},
        "parameters": {
            "epochs": epochs,
            "batch_size": batch_size,
            "early_stop": "diff",
            "tol": 0.0001,
            "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 0.001, "optimizer_params": {"lr": 0.1}},
            "init_param": {"method": "zeros", "fit_intercept": True},
        },
    }
    tasks["evaluation_0"] = {
        "component_ref": "evaluation",
        "dependent_tasks": ["lr_0"],
        "inputs": {"data": {"input_datas": _data("lr_0", "train_output_data", GUEST)}},
        "parameters": {"default_eval_setting": "binary"},
        "parties": _parties(GUEST),
        "stage": "default",
    }
    return _document(tasks, PARTIES)


def next_job_dag() -> str:
    """reader -> psi at guest and host: it needs all the cores of both, so it runs only if they came back."""
    return _document(_reader_and_psi(), (GUEST, HOST))
