from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskOutputRef(_message.Message):
    __slots__ = ("job_id", "role", "party_id", "task_name")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    role: str
    party_id: str
    task_name: str
    def __init__(self, job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ...) -> None: ...

class QueryMetricsRequest(_message.Message):
    __slots__ = ("task", "names")
    TASK_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class QueryMetricsResponse(_message.Message):
    __slots__ = ("metrics", "attempt")
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedCompositeFieldContainer[_common_pb2.Metric]
    attempt: int
    def __init__(self, metrics: _Optional[_Iterable[_Union[_common_pb2.Metric, _Mapping]]] = ..., attempt: _Optional[int] = ...) -> None: ...

class QueryMetricKeysRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class QueryMetricKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.Metric]
    def __init__(self, keys: _Optional[_Iterable[_Union[_common_pb2.Metric, _Mapping]]] = ...) -> None: ...

class DeleteMetricsRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class DeleteMetricsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class OutputModel(_message.Message):
    __slots__ = ("info", "document")
    INFO_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    info: _common_pb2.ModelInfo
    document: _struct_pb2.Value
    def __init__(self, info: _Optional[_Union[_common_pb2.ModelInfo, _Mapping]] = ..., document: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class QueryOutputModelsRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class QueryOutputModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[OutputModel]
    def __init__(self, models: _Optional[_Iterable[_Union[OutputModel, _Mapping]]] = ...) -> None: ...

class DownloadOutputModelsRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class DownloadOutputModelsResponse(_message.Message):
    __slots__ = ("part",)
    PART_FIELD_NUMBER: _ClassVar[int]
    part: _common_pb2.FilePart
    def __init__(self, part: _Optional[_Union[_common_pb2.FilePart, _Mapping]] = ...) -> None: ...

class DeleteOutputModelsRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class DeleteOutputModelsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class OutputTable(_message.Message):
    __slots__ = ("output_key", "table")
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    output_key: str
    table: _common_pb2.TableInfo
    def __init__(self, output_key: _Optional[str] = ..., table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class QueryOutputTablesRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ...) -> None: ...

class QueryOutputTablesResponse(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[OutputTable]
    def __init__(self, tables: _Optional[_Iterable[_Union[OutputTable, _Mapping]]] = ...) -> None: ...

class DisplayOutputDataRequest(_message.Message):
    __slots__ = ("task", "limit", "output_key")
    TASK_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    limit: int
    output_key: str
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ..., limit: _Optional[int] = ..., output_key: _Optional[str] = ...) -> None: ...

class DataRow(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class OutputRows(_message.Message):
    __slots__ = ("output_key", "header", "rows", "count")
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    output_key: str
    header: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[DataRow]
    count: int
    def __init__(self, output_key: _Optional[str] = ..., header: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[DataRow, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class DisplayOutputDataResponse(_message.Message):
    __slots__ = ("outputs",)
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[OutputRows]
    def __init__(self, outputs: _Optional[_Iterable[_Union[OutputRows, _Mapping]]] = ...) -> None: ...

class DownloadOutputDataRequest(_message.Message):
    __slots__ = ("task", "output_key")
    TASK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    task: TaskOutputRef
    output_key: str
    def __init__(self, task: _Optional[_Union[TaskOutputRef, _Mapping]] = ..., output_key: _Optional[str] = ...) -> None: ...

class DownloadOutputDataResponse(_message.Message):
    __slots__ = ("part",)
    PART_FIELD_NUMBER: _ClassVar[int]
    part: _common_pb2.FilePart
    def __init__(self, part: _Optional[_Union[_common_pb2.FilePart, _Mapping]] = ...) -> None: ...

class DownloadTableRequest(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DownloadTableResponse(_message.Message):
    __slots__ = ("part",)
    PART_FIELD_NUMBER: _ClassVar[int]
    part: _common_pb2.FilePart
    def __init__(self, part: _Optional[_Union[_common_pb2.FilePart, _Mapping]] = ...) -> None: ...

class DeleteTableRequest(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class ExportModelRequest(_message.Message):
    __slots__ = ("model_id", "model_version", "role", "party_id")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    role: str
    party_id: str
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ...) -> None: ...

class ExportModelResponse(_message.Message):
    __slots__ = ("part",)
    PART_FIELD_NUMBER: _ClassVar[int]
    part: _common_pb2.FilePart
    def __init__(self, part: _Optional[_Union[_common_pb2.FilePart, _Mapping]] = ...) -> None: ...

class ImportModelHeader(_message.Message):
    __slots__ = ("model_id", "model_version", "size")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    size: int
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ImportModelRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: ImportModelHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[ImportModelHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ImportModelResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ...) -> None: ...

class QueryModelsRequest(_message.Message):
    __slots__ = ("model_id", "model_version", "role", "party_id", "task_name")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    role: str
    party_id: str
    task_name: str
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ...) -> None: ...

class QueryModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ...) -> None: ...

class DeleteModelsRequest(_message.Message):
    __slots__ = ("model_id", "model_version", "role", "party_id", "task_name", "output_key")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_version: str
    role: str
    party_id: str
    task_name: str
    output_key: str
    def __init__(self, model_id: _Optional[str] = ..., model_version: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ..., output_key: _Optional[str] = ...) -> None: ...

class DeleteModelsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...
