"""Where a node keeps its files; every path built from user input is checked to stay inside data_dir."""

from __future__ import annotations

from pathlib import Path

from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.records import TaskKey


class NodePaths:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve()

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    @property
    def mailbox_dir(self) -> Path:
        return self.root / "mailbox"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space for imports and exports (same file system, so results can be renamed in)."""
        return self.root / "tmp"

    def ensure(self) -> None:
        for folder in (
            self.root,
            self.tables_dir,
            self.jobs_dir,
            self.mailbox_dir,
            self.logs_dir,
            self.models_dir,
            self.tmp_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def table_file(self, namespace: str, name: str) -> Path:
        check_name(namespace, "namespace")
        check_name(name, "name")
        return self.confine(self.tables_dir / namespace / f"{name}.csv")

    def task_dir(self, key: TaskKey) -> Path:
        check_name(key.job_id, "job_id")
        check_name(key.task_name, "task_name")
        check_party_id(key.party_id)
        return self.confine(
            self.jobs_dir / key.job_id / f"{key.role}_{key.party_id}" / key.task_name / str(key.attempt)
        )

    def model_dir(
        self, model_id: str, model_version: str, role: str, party_id: str, task_name: str, output_key: str
    ) -> Path:
        """Where the warehouse keeps one model: models/<id>/<version>/<role>_<party>/<task>/<key>."""
        check_name(model_id, "model_id")
        check_name(model_version, "model_version")
        check_name(role, "role")
        check_party_id(party_id)
        check_name(task_name, "task_name")
        check_name(output_key, "output_key")
        return self.confine(
            self.models_dir / model_id / model_version / f"{role}_{party_id}" / task_name / output_key
        )

    def confine(self, path: Path) -> Path:
        """The resolved path, which must lie inside the data dir."""
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise FateGrpcError(ErrorCode.PERMISSION_DENIED, "path escapes the node's data directory")
        return resolved
