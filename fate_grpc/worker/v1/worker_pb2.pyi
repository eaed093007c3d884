from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InputArtifact(_message.Message):
    __slots__ = ("key", "kind", "index", "producer_task", "output_key", "table", "path", "model")
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_TASK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    key: str
    kind: str
    index: int
    producer_task: str
    output_key: str
    table: _common_pb2.TableInfo
    path: str
    model: _common_pb2.ModelInfo
    def __init__(self, key: _Optional[str] = ..., kind: _Optional[str] = ..., index: _Optional[int] = ..., producer_task: _Optional[str] = ..., output_key: _Optional[str] = ..., table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ..., path: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelInfo, _Mapping]] = ...) -> None: ...

class GetTaskSpecRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTaskSpecResponse(_message.Message):
    __slots__ = ("job_id", "task_name", "attempt", "component", "role", "party_id", "stage", "parameters", "conf", "parties", "inputs", "work_dir", "receive_timeout_s", "provider", "provider_module", "provider_path")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CONF_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    WORK_DIR_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODULE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_PATH_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    task_name: str
    attempt: int
    component: str
    role: str
    party_id: str
    stage: str
    parameters: _common_pb2.TypedMap
    conf: _common_pb2.TypedMap
    parties: _containers.RepeatedCompositeFieldContainer[_common_pb2.PartyRef]
    inputs: _containers.RepeatedCompositeFieldContainer[InputArtifact]
    work_dir: str
    receive_timeout_s: float
    provider: str
    provider_module: str
    provider_path: str
    def __init__(self, job_id: _Optional[str] = ..., task_name: _Optional[str] = ..., attempt: _Optional[int] = ..., component: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., stage: _Optional[str] = ..., parameters: _Optional[_Union[_common_pb2.TypedMap, _Mapping]] = ..., conf: _Optional[_Union[_common_pb2.TypedMap, _Mapping]] = ..., parties: _Optional[_Iterable[_Union[_common_pb2.PartyRef, _Mapping]]] = ..., inputs: _Optional[_Iterable[_Union[InputArtifact, _Mapping]]] = ..., work_dir: _Optional[str] = ..., receive_timeout_s: _Optional[float] = ..., provider: _Optional[str] = ..., provider_module: _Optional[str] = ..., provider_path: _Optional[str] = ...) -> None: ...

class ReportStatusRequest(_message.Message):
    __slots__ = ("status", "error", "traceback")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.TaskStatus
    error: str
    traceback: str
    def __init__(self, status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., error: _Optional[str] = ..., traceback: _Optional[str] = ...) -> None: ...

class ReportStatusResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SendObjectHeader(_message.Message):
    __slots__ = ("tag", "destination", "total_size")
    TAG_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    tag: str
    destination: _common_pb2.PartyRef
    total_size: int
    def __init__(self, tag: _Optional[str] = ..., destination: _Optional[_Union[_common_pb2.PartyRef, _Mapping]] = ..., total_size: _Optional[int] = ...) -> None: ...

class SendObjectRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: SendObjectHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[SendObjectHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class SendObjectResponse(_message.Message):
    __slots__ = ("stored",)
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: bool
    def __init__(self, stored: _Optional[bool] = ...) -> None: ...

class ReceiveObjectRequest(_message.Message):
    __slots__ = ("tag", "source", "timeout_s")
    TAG_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    tag: str
    source: _common_pb2.PartyRef
    timeout_s: float
    def __init__(self, tag: _Optional[str] = ..., source: _Optional[_Union[_common_pb2.PartyRef, _Mapping]] = ..., timeout_s: _Optional[float] = ...) -> None: ...

class ReceiveObjectResponse(_message.Message):
    __slots__ = ("total_size", "chunk")
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    total_size: int
    chunk: bytes
    def __init__(self, total_size: _Optional[int] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class RegisterOutputDataRequest(_message.Message):
    __slots__ = ("output_key", "path", "table")
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    output_key: str
    path: str
    table: _common_pb2.TableInfo
    def __init__(self, output_key: _Optional[str] = ..., path: _Optional[str] = ..., table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class RegisterOutputDataResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: int
    def __init__(self, progress: _Optional[int] = ...) -> None: ...

class ReportProgressResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReportMetricsRequest(_message.Message):
    __slots__ = ("metrics",)
    METRICS_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedCompositeFieldContainer[_common_pb2.Metric]
    def __init__(self, metrics: _Optional[_Iterable[_Union[_common_pb2.Metric, _Mapping]]] = ...) -> None: ...

class ReportMetricsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RegisterOutputModelRequest(_message.Message):
    __slots__ = ("output_key", "path")
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    output_key: str
    path: str
    def __init__(self, output_key: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class RegisterOutputModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelInfo
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelInfo, _Mapping]] = ...) -> None: ...
