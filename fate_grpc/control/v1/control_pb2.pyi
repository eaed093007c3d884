from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ForwardSubmitRequest(_message.Message):
    __slots__ = ("dag_yaml", "initiator_party_id", "user_name")
    DAG_YAML_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    dag_yaml: str
    initiator_party_id: str
    user_name: str
    def __init__(self, dag_yaml: _Optional[str] = ..., initiator_party_id: _Optional[str] = ..., user_name: _Optional[str] = ...) -> None: ...

class ForwardSubmitResponse(_message.Message):
    __slots__ = ("job_id", "model_id", "model_version")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model_id: str
    model_version: str
    def __init__(self, job_id: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class CheckJobRequest(_message.Message):
    __slots__ = ("job_id", "dag_yaml", "scheduler_party_id", "initiator_party_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DAG_YAML_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    dag_yaml: str
    scheduler_party_id: str
    initiator_party_id: str
    def __init__(self, job_id: _Optional[str] = ..., dag_yaml: _Optional[str] = ..., scheduler_party_id: _Optional[str] = ..., initiator_party_id: _Optional[str] = ...) -> None: ...

class CheckJobResponse(_message.Message):
    __slots__ = ("accepted", "violations")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    violations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Violation]
    def __init__(self, accepted: _Optional[bool] = ..., violations: _Optional[_Iterable[_Union[_common_pb2.Violation, _Mapping]]] = ...) -> None: ...

class CreateJobRequest(_message.Message):
    __slots__ = ("job_id", "dag_yaml", "scheduler_party_id", "initiator_party_id", "user_name", "create_time_ms")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DAG_YAML_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    dag_yaml: str
    scheduler_party_id: str
    initiator_party_id: str
    user_name: str
    create_time_ms: int
    def __init__(self, job_id: _Optional[str] = ..., dag_yaml: _Optional[str] = ..., scheduler_party_id: _Optional[str] = ..., initiator_party_id: _Optional[str] = ..., user_name: _Optional[str] = ..., create_time_ms: _Optional[int] = ...) -> None: ...

class CreateJobResponse(_message.Message):
    __slots__ = ("created", "violations")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    created: bool
    violations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Violation]
    def __init__(self, created: _Optional[bool] = ..., violations: _Optional[_Iterable[_Union[_common_pb2.Violation, _Mapping]]] = ...) -> None: ...

class AbortJobRequest(_message.Message):
    __slots__ = ("job_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AbortJobResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...

class StartTaskRequest(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class StartTaskResponse(_message.Message):
    __slots__ = ("roles",)
    ROLES_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, roles: _Optional[_Iterable[str]] = ...) -> None: ...

class StopTaskRequest(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "status", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    status: _common_pb2.TaskStatus
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class StopTaskResponse(_message.Message):
    __slots__ = ("killed",)
    KILLED_FIELD_NUMBER: _ClassVar[int]
    killed: int
    def __init__(self, killed: _Optional[int] = ...) -> None: ...

class SyncTaskStatusRequest(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "status", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    status: _common_pb2.TaskStatus
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SyncTaskStatusResponse(_message.Message):
    __slots__ = ("outcome", "reason")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    outcome: _common_pb2.SyncOutcome
    reason: str
    def __init__(self, outcome: _Optional[_Union[_common_pb2.SyncOutcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SyncJobStatusRequest(_message.Message):
    __slots__ = ("job_id", "status", "reason", "progress")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: _common_pb2.JobStatus
    reason: str
    progress: int
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., reason: _Optional[str] = ..., progress: _Optional[int] = ...) -> None: ...

class SyncJobStatusResponse(_message.Message):
    __slots__ = ("outcome", "reason")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    outcome: _common_pb2.SyncOutcome
    reason: str
    def __init__(self, outcome: _Optional[_Union[_common_pb2.SyncOutcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReportTaskStatusRequest(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "role", "party_id", "status", "error", "start_time_ms", "end_time_ms", "progress")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    role: str
    party_id: str
    status: _common_pb2.TaskStatus
    error: str
    start_time_ms: int
    end_time_ms: int
    progress: int
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., error: _Optional[str] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., progress: _Optional[int] = ...) -> None: ...

class ReportTaskStatusResponse(_message.Message):
    __slots__ = ("outcome", "reason")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    outcome: _common_pb2.SyncOutcome
    reason: str
    def __init__(self, outcome: _Optional[_Union[_common_pb2.SyncOutcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class CollectTaskStatusRequest(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class CollectTaskStatusResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskView]
    def __init__(self, tasks: _Optional[_Iterable[_Union[_common_pb2.TaskView, _Mapping]]] = ...) -> None: ...

class RequestStopJobRequest(_message.Message):
    __slots__ = ("job_id", "requester_party_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    requester_party_id: str
    def __init__(self, job_id: _Optional[str] = ..., requester_party_id: _Optional[str] = ...) -> None: ...

class RequestStopJobResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.JobStatus
    def __init__(self, status: _Optional[_Union[_common_pb2.JobStatus, str]] = ...) -> None: ...

class GetJobViewRequest(_message.Message):
    __slots__ = ("job_id", "all_attempts")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    all_attempts: bool
    def __init__(self, job_id: _Optional[str] = ..., all_attempts: _Optional[bool] = ...) -> None: ...

class GetJobViewResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.JobView
    def __init__(self, job: _Optional[_Union[_common_pb2.JobView, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.JobView
    def __init__(self, job: _Optional[_Union[_common_pb2.JobView, _Mapping]] = ...) -> None: ...

class ApplyResourcesRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ApplyResourcesResponse(_message.Message):
    __slots__ = ("granted", "cores", "cores_in_use", "total_cores")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    CORES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CORES_FIELD_NUMBER: _ClassVar[int]
    granted: bool
    cores: int
    cores_in_use: int
    total_cores: int
    def __init__(self, granted: _Optional[bool] = ..., cores: _Optional[int] = ..., cores_in_use: _Optional[int] = ..., total_cores: _Optional[int] = ...) -> None: ...

class ReturnResourcesRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ReturnResourcesResponse(_message.Message):
    __slots__ = ("returned",)
    RETURNED_FIELD_NUMBER: _ClassVar[int]
    returned: bool
    def __init__(self, returned: _Optional[bool] = ...) -> None: ...

class RequestRerunJobRequest(_message.Message):
    __slots__ = ("job_id", "requester_party_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    requester_party_id: str
    def __init__(self, job_id: _Optional[str] = ..., requester_party_id: _Optional[str] = ...) -> None: ...

class RequestRerunJobResponse(_message.Message):
    __slots__ = ("status", "tasks")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.JobStatus
    tasks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., tasks: _Optional[_Iterable[str]] = ...) -> None: ...

class RequestCleanJobRequest(_message.Message):
    __slots__ = ("job_id", "requester_party_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    requester_party_id: str
    def __init__(self, job_id: _Optional[str] = ..., requester_party_id: _Optional[str] = ...) -> None: ...

class RequestCleanJobResponse(_message.Message):
    __slots__ = ("cleaned_party_ids",)
    CLEANED_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    cleaned_party_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cleaned_party_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CleanJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CleanJobResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...
