from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushObjectHeader(_message.Message):
    __slots__ = ("key", "total_size")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.ObjectKey
    total_size: int
    def __init__(self, key: _Optional[_Union[_common_pb2.ObjectKey, _Mapping]] = ..., total_size: _Optional[int] = ...) -> None: ...

class PushObjectRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: PushObjectHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[PushObjectHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class PushObjectResponse(_message.Message):
    __slots__ = ("stored", "received_size")
    STORED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_SIZE_FIELD_NUMBER: _ClassVar[int]
    stored: bool
    received_size: int
    def __init__(self, stored: _Optional[bool] = ..., received_size: _Optional[int] = ...) -> None: ...
