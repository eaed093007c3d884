from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATUS_UNSPECIFIED: _ClassVar[JobStatus]
    JOB_STATUS_WAITING: _ClassVar[JobStatus]
    JOB_STATUS_RUNNING: _ClassVar[JobStatus]
    JOB_STATUS_SUCCESS: _ClassVar[JobStatus]
    JOB_STATUS_FAILED: _ClassVar[JobStatus]
    JOB_STATUS_CANCELED: _ClassVar[JobStatus]
    JOB_STATUS_TIMEOUT: _ClassVar[JobStatus]

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_WAITING: _ClassVar[TaskStatus]
    TASK_STATUS_RUNNING: _ClassVar[TaskStatus]
    TASK_STATUS_SUCCESS: _ClassVar[TaskStatus]
    TASK_STATUS_FAILED: _ClassVar[TaskStatus]
    TASK_STATUS_CANCELED: _ClassVar[TaskStatus]
    TASK_STATUS_TIMEOUT: _ClassVar[TaskStatus]
    TASK_STATUS_PASS: _ClassVar[TaskStatus]

class SyncOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_OUTCOME_UNSPECIFIED: _ClassVar[SyncOutcome]
    SYNC_OUTCOME_APPLIED: _ClassVar[SyncOutcome]
    SYNC_OUTCOME_DUPLICATE: _ClassVar[SyncOutcome]
    SYNC_OUTCOME_STALE: _ClassVar[SyncOutcome]
    SYNC_OUTCOME_REJECTED: _ClassVar[SyncOutcome]
JOB_STATUS_UNSPECIFIED: JobStatus
JOB_STATUS_WAITING: JobStatus
JOB_STATUS_RUNNING: JobStatus
JOB_STATUS_SUCCESS: JobStatus
JOB_STATUS_FAILED: JobStatus
JOB_STATUS_CANCELED: JobStatus
JOB_STATUS_TIMEOUT: JobStatus
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_WAITING: TaskStatus
TASK_STATUS_RUNNING: TaskStatus
TASK_STATUS_SUCCESS: TaskStatus
TASK_STATUS_FAILED: TaskStatus
TASK_STATUS_CANCELED: TaskStatus
TASK_STATUS_TIMEOUT: TaskStatus
TASK_STATUS_PASS: TaskStatus
SYNC_OUTCOME_UNSPECIFIED: SyncOutcome
SYNC_OUTCOME_APPLIED: SyncOutcome
SYNC_OUTCOME_DUPLICATE: SyncOutcome
SYNC_OUTCOME_STALE: SyncOutcome
SYNC_OUTCOME_REJECTED: SyncOutcome

class PartyRef(_message.Message):
    __slots__ = ("role", "party_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    role: str
    party_id: str
    def __init__(self, role: _Optional[str] = ..., party_id: _Optional[str] = ...) -> None: ...

class Violation(_message.Message):
    __slots__ = ("field", "reason", "party_id")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    field: str
    reason: str
    party_id: str
    def __init__(self, field: _Optional[str] = ..., reason: _Optional[str] = ..., party_id: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("code", "message", "hint", "fields", "violations")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    hint: str
    fields: _containers.ScalarMap[str, str]
    violations: _containers.RepeatedCompositeFieldContainer[Violation]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., hint: _Optional[str] = ..., fields: _Optional[_Mapping[str, str]] = ..., violations: _Optional[_Iterable[_Union[Violation, _Mapping]]] = ...) -> None: ...

class ObjectKey(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "tag", "source", "destination")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    tag: str
    source: PartyRef
    destination: PartyRef
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., tag: _Optional[str] = ..., source: _Optional[_Union[PartyRef, _Mapping]] = ..., destination: _Optional[_Union[PartyRef, _Mapping]] = ...) -> None: ...

class TaskView(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "component", "role", "party_id", "status", "start_time_ms", "end_time_ms", "elapsed_ms", "error", "progress", "traceback", "update_time_ms", "create_time_ms")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    component: str
    role: str
    party_id: str
    status: TaskStatus
    start_time_ms: int
    end_time_ms: int
    elapsed_ms: int
    error: str
    progress: int
    traceback: str
    update_time_ms: int
    create_time_ms: int
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., component: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., elapsed_ms: _Optional[int] = ..., error: _Optional[str] = ..., progress: _Optional[int] = ..., traceback: _Optional[str] = ..., update_time_ms: _Optional[int] = ..., create_time_ms: _Optional[int] = ...) -> None: ...

class PartyJobView(_message.Message):
    __slots__ = ("role", "party_id", "status", "description", "unreachable_since_ms", "unreachable_reason")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    role: str
    party_id: str
    status: JobStatus
    description: str
    unreachable_since_ms: int
    unreachable_reason: str
    def __init__(self, role: _Optional[str] = ..., party_id: _Optional[str] = ..., status: _Optional[_Union[JobStatus, str]] = ..., description: _Optional[str] = ..., unreachable_since_ms: _Optional[int] = ..., unreachable_reason: _Optional[str] = ...) -> None: ...

class JobView(_message.Message):
    __slots__ = ("job_id", "status", "status_reason", "initiator_party_id", "scheduler_party_id", "progress", "create_time_ms", "start_time_ms", "end_time_ms", "elapsed_ms", "parties", "tasks", "answered_by_party_id", "from_scheduler", "stage", "update_time_ms", "dag_yaml")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    DAG_YAML_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: JobStatus
    status_reason: str
    initiator_party_id: str
    scheduler_party_id: str
    progress: int
    create_time_ms: int
    start_time_ms: int
    end_time_ms: int
    elapsed_ms: int
    parties: _containers.RepeatedCompositeFieldContainer[PartyJobView]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskView]
    answered_by_party_id: str
    from_scheduler: bool
    stage: str
    update_time_ms: int
    dag_yaml: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[JobStatus, str]] = ..., status_reason: _Optional[str] = ..., initiator_party_id: _Optional[str] = ..., scheduler_party_id: _Optional[str] = ..., progress: _Optional[int] = ..., create_time_ms: _Optional[int] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., elapsed_ms: _Optional[int] = ..., parties: _Optional[_Iterable[_Union[PartyJobView, _Mapping]]] = ..., tasks: _Optional[_Iterable[_Union[TaskView, _Mapping]]] = ..., answered_by_party_id: _Optional[str] = ..., from_scheduler: _Optional[bool] = ..., stage: _Optional[str] = ..., update_time_ms: _Optional[int] = ..., dag_yaml: _Optional[str] = ...) -> None: ...

class TableInfo(_message.Message):
    __slots__ = ("namespace", "name", "count", "header", "match_id_name", "label_name", "weight_name", "delimiter", "create_time_ms", "meta")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    MATCH_ID_NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_NAME_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    count: int
    header: _containers.RepeatedScalarFieldContainer[str]
    match_id_name: str
    label_name: str
    weight_name: str
    delimiter: str
    create_time_ms: int
    meta: _struct_pb2.Struct
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., count: _Optional[int] = ..., header: _Optional[_Iterable[str]] = ..., match_id_name: _Optional[str] = ..., label_name: _Optional[str] = ..., weight_name: _Optional[str] = ..., delimiter: _Optional[str] = ..., create_time_ms: _Optional[int] = ..., meta: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MetricGroup(_message.Message):
    __slots__ = ("name", "index")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    name: str
    index: int
    def __init__(self, name: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class MetricPoint(_message.Message):
    __slots__ = ("metric", "step", "timestamp")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    metric: _struct_pb2.Value
    step: int
    timestamp: float
    def __init__(self, metric: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., step: _Optional[int] = ..., timestamp: _Optional[float] = ...) -> None: ...

class Metric(_message.Message):
    __slots__ = ("name", "type", "groups", "step_axis", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    STEP_AXIS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    groups: _containers.RepeatedCompositeFieldContainer[MetricGroup]
    step_axis: str
    data: _containers.RepeatedCompositeFieldContainer[MetricPoint]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., groups: _Optional[_Iterable[_Union[MetricGroup, _Mapping]]] = ..., step_axis: _Optional[str] = ..., data: _Optional[_Iterable[_Union[MetricPoint, _Mapping]]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("model_id", "model_version", "role", "party_id", "task_name", "output_key", "job_id", "component", "type_name", "size", "create_time_ms")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    role: str
    party_id: str
    task_name: str
    output_key: str
    job_id: str
    component: str
    type_name: str
    size: int
    create_time_ms: int
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ..., output_key: _Optional[str] = ..., job_id: _Optional[str] = ..., component: _Optional[str] = ..., type_name: _Optional[str] = ..., size: _Optional[int] = ..., create_time_ms: _Optional[int] = ...) -> None: ...

class FilePart(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: FileHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[FileHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class FileHeader(_message.Message):
    __slots__ = ("path", "size")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class TypedValue(_message.Message):
    __slots__ = ("null_value", "bool_value", "int_value", "big_int_value", "float_value", "string_value", "list_value", "map_value")
    NULL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BIG_INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE_FIELD_NUMBER: _ClassVar[int]
    null_value: _struct_pb2.NullValue
    bool_value: bool
    int_value: int
    big_int_value: str
    float_value: float
    string_value: str
    list_value: TypedList
    map_value: TypedMap
    def __init__(self, null_value: _Optional[_Union[_struct_pb2.NullValue, str]] = ..., bool_value: _Optional[bool] = ..., int_value: _Optional[int] = ..., big_int_value: _Optional[str] = ..., float_value: _Optional[float] = ..., string_value: _Optional[str] = ..., list_value: _Optional[_Union[TypedList, _Mapping]] = ..., map_value: _Optional[_Union[TypedMap, _Mapping]] = ...) -> None: ...

class TypedList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[TypedValue]
    def __init__(self, values: _Optional[_Iterable[_Union[TypedValue, _Mapping]]] = ...) -> None: ...

class TypedMap(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[TypedMapEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[TypedMapEntry, _Mapping]]] = ...) -> None: ...

class TypedMapEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: TypedValue
    value: TypedValue
    def __init__(self, key: _Optional[_Union[TypedValue, _Mapping]] = ..., value: _Optional[_Union[TypedValue, _Mapping]] = ...) -> None: ...
