from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadDataHeader(_message.Message):
    __slots__ = ("namespace", "name", "head", "partitions", "extend_sid", "meta", "source_file", "server_file")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    EXTEND_SID_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FILE_FIELD_NUMBER: _ClassVar[int]
    SERVER_FILE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    head: bool
    partitions: int
    extend_sid: bool
    meta: _struct_pb2.Struct
    source_file: str
    server_file: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., head: _Optional[bool] = ..., partitions: _Optional[int] = ..., extend_sid: _Optional[bool] = ..., meta: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., source_file: _Optional[str] = ..., server_file: _Optional[str] = ...) -> None: ...

class UploadDataRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadDataHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadDataHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadDataResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class DisplayTableRequest(_message.Message):
    __slots__ = ("namespace", "name", "limit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    limit: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class DisplayRow(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class DisplayTableResponse(_message.Message):
    __slots__ = ("table", "rows")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    rows: _containers.RepeatedCompositeFieldContainer[DisplayRow]
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ..., rows: _Optional[_Iterable[_Union[DisplayRow, _Mapping]]] = ...) -> None: ...

class TransformTableRequest(_message.Message):
    __slots__ = ("source_namespace", "source_name", "namespace", "name", "site_name", "drop")
    SOURCE_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_NAME_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    source_namespace: str
    source_name: str
    namespace: str
    name: str
    site_name: str
    drop: bool
    def __init__(self, source_namespace: _Optional[str] = ..., source_name: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., site_name: _Optional[str] = ..., drop: _Optional[bool] = ...) -> None: ...

class TransformTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class BindTableRequest(_message.Message):
    __slots__ = ("namespace", "name", "path")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    path: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class BindTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class SaveTableOnNodeRequest(_message.Message):
    __slots__ = ("namespace", "name", "path")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    path: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class SaveTableOnNodeResponse(_message.Message):
    __slots__ = ("file", "count")
    FILE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    file: str
    count: int
    def __init__(self, file: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...
