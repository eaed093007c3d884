from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskUpstream(_message.Message):
    __slots__ = ("input_key", "kind", "producer_task", "output_artifact_key")
    INPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_TASK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ARTIFACT_KEY_FIELD_NUMBER: _ClassVar[int]
    input_key: str
    kind: str
    producer_task: str
    output_artifact_key: str
    def __init__(self, input_key: _Optional[str] = ..., kind: _Optional[str] = ..., producer_task: _Optional[str] = ..., output_artifact_key: _Optional[str] = ...) -> None: ...

class TaskDependency(_message.Message):
    __slots__ = ("task_name", "component", "stage", "upstreams")
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    UPSTREAMS_FIELD_NUMBER: _ClassVar[int]
    task_name: str
    component: str
    stage: str
    upstreams: _containers.RepeatedCompositeFieldContainer[TaskUpstream]
    def __init__(self, task_name: _Optional[str] = ..., component: _Optional[str] = ..., stage: _Optional[str] = ..., upstreams: _Optional[_Iterable[_Union[TaskUpstream, _Mapping]]] = ...) -> None: ...

class GetJobDependencyRequest(_message.Message):
    __slots__ = ("job_id", "role", "party_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    role: str
    party_id: str
    def __init__(self, job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ...) -> None: ...

class GetJobDependencyResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskDependency]
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskDependency, _Mapping]]] = ...) -> None: ...

class AddJobNotesRequest(_message.Message):
    __slots__ = ("job_id", "role", "party_id", "notes")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    role: str
    party_id: str
    notes: str
    def __init__(self, job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class AddJobNotesResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class DownloadJobLogRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class DownloadJobLogResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class CleanQueueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CanceledJob(_message.Message):
    __slots__ = ("job_id", "status", "error")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: _common_pb2.JobStatus
    error: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., error: _Optional[str] = ...) -> None: ...

class CleanQueueResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[CanceledJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[CanceledJob, _Mapping]]] = ...) -> None: ...

class LogSelector(_message.Message):
    __slots__ = ("log_type", "job_id", "role", "party_id", "task_name", "instance_id")
    LOG_TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    log_type: str
    job_id: str
    role: str
    party_id: str
    task_name: str
    instance_id: str
    def __init__(self, log_type: _Optional[str] = ..., job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ..., instance_id: _Optional[str] = ...) -> None: ...

class QueryLogRequest(_message.Message):
    __slots__ = ("log", "begin", "end")
    LOG_FIELD_NUMBER: _ClassVar[int]
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    log: LogSelector
    begin: int
    end: int
    def __init__(self, log: _Optional[_Union[LogSelector, _Mapping]] = ..., begin: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class LogLine(_message.Message):
    __slots__ = ("line_num", "content")
    LINE_NUM_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    line_num: int
    content: str
    def __init__(self, line_num: _Optional[int] = ..., content: _Optional[str] = ...) -> None: ...

class QueryLogResponse(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[LogLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[LogLine, _Mapping]]] = ...) -> None: ...

class CountLogRequest(_message.Message):
    __slots__ = ("log",)
    LOG_FIELD_NUMBER: _ClassVar[int]
    log: LogSelector
    def __init__(self, log: _Optional[_Union[LogSelector, _Mapping]] = ...) -> None: ...

class CountLogResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class CheckPartnersRequest(_message.Message):
    __slots__ = ("timeout_s",)
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    timeout_s: float
    def __init__(self, timeout_s: _Optional[float] = ...) -> None: ...

class PartnerReachability(_message.Message):
    __slots__ = ("party_id", "address", "reachable", "latency_ms", "error")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    address: str
    reachable: bool
    latency_ms: int
    error: str
    def __init__(self, party_id: _Optional[str] = ..., address: _Optional[str] = ..., reachable: _Optional[bool] = ..., latency_ms: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class CheckPartnersResponse(_message.Message):
    __slots__ = ("partners",)
    PARTNERS_FIELD_NUMBER: _ClassVar[int]
    partners: _containers.RepeatedCompositeFieldContainer[PartnerReachability]
    def __init__(self, partners: _Optional[_Iterable[_Union[PartnerReachability, _Mapping]]] = ...) -> None: ...
