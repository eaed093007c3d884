from fate_grpc.client.v1 import jobs_pb2 as _jobs_pb2
from fate_grpc.client.v1 import data_pb2 as _data_pb2
from fate_grpc.client.v1 import outputs_pb2 as _outputs_pb2
from fate_grpc.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetNodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetNodeInfoResponse(_message.Message):
    __slots__ = ("party_id", "version", "routes", "ready_task_processes", "user", "is_admin", "auth_method", "tls")
    class RoutesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    READY_TASK_PROCESSES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    version: str
    routes: _containers.ScalarMap[str, str]
    ready_task_processes: int
    user: str
    is_admin: bool
    auth_method: str
    tls: bool
    def __init__(self, party_id: _Optional[str] = ..., version: _Optional[str] = ..., routes: _Optional[_Mapping[str, str]] = ..., ready_task_processes: _Optional[int] = ..., user: _Optional[str] = ..., is_admin: _Optional[bool] = ..., auth_method: _Optional[str] = ..., tls: _Optional[bool] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("dag_yaml", "user_name")
    DAG_YAML_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    dag_yaml: str
    user_name: str
    def __init__(self, dag_yaml: _Optional[str] = ..., user_name: _Optional[str] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job_id", "scheduler_party_id", "model_id", "model_version")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    scheduler_party_id: str
    model_id: str
    model_version: str
    def __init__(self, job_id: _Optional[str] = ..., scheduler_party_id: _Optional[str] = ..., model_id: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class QueryJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class QueryJobResponse(_message.Message):
    __slots__ = ("job", "warning")
    JOB_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.JobView
    warning: str
    def __init__(self, job: _Optional[_Union[_common_pb2.JobView, _Mapping]] = ..., warning: _Optional[str] = ...) -> None: ...

class QueryTasksRequest(_message.Message):
    __slots__ = ("job_id", "role", "party_id", "task_name", "all_attempts", "traceback")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ALL_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    role: str
    party_id: str
    task_name: str
    all_attempts: bool
    traceback: bool
    def __init__(self, job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ..., all_attempts: _Optional[bool] = ..., traceback: _Optional[bool] = ...) -> None: ...

class QueryTasksResponse(_message.Message):
    __slots__ = ("tasks", "warning")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskView]
    warning: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[_common_pb2.TaskView, _Mapping]]] = ..., warning: _Optional[str] = ...) -> None: ...

class StopJobRequest(_message.Message):
    __slots__ = ("job_id", "force")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    force: bool
    def __init__(self, job_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class StopJobResponse(_message.Message):
    __slots__ = ("job_id", "status", "forced")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FORCED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: _common_pb2.JobStatus
    forced: ForcedStop
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., forced: _Optional[_Union[ForcedStop, _Mapping]] = ...) -> None: ...

class ForcedStop(_message.Message):
    __slots__ = ("party_id", "previous_status", "killed_processes", "ended_tasks", "cores_returned")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    KILLED_PROCESSES_FIELD_NUMBER: _ClassVar[int]
    ENDED_TASKS_FIELD_NUMBER: _ClassVar[int]
    CORES_RETURNED_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    previous_status: _common_pb2.JobStatus
    killed_processes: int
    ended_tasks: int
    cores_returned: bool
    def __init__(self, party_id: _Optional[str] = ..., previous_status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., killed_processes: _Optional[int] = ..., ended_tasks: _Optional[int] = ..., cores_returned: _Optional[bool] = ...) -> None: ...

class UploadTableHeader(_message.Message):
    __slots__ = ("namespace", "name", "head", "delimiter", "match_id_name", "label_name", "weight_name", "header", "overwrite", "source_file")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    MATCH_ID_NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_NAME_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FILE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    head: bool
    delimiter: str
    match_id_name: str
    label_name: str
    weight_name: str
    header: _containers.RepeatedScalarFieldContainer[str]
    overwrite: bool
    source_file: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., head: _Optional[bool] = ..., delimiter: _Optional[str] = ..., match_id_name: _Optional[str] = ..., label_name: _Optional[str] = ..., weight_name: _Optional[str] = ..., header: _Optional[_Iterable[str]] = ..., overwrite: _Optional[bool] = ..., source_file: _Optional[str] = ...) -> None: ...

class UploadTableRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadTableHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadTableHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class QueryTableRequest(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class QueryTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _common_pb2.TableInfo
    def __init__(self, table: _Optional[_Union[_common_pb2.TableInfo, _Mapping]] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("name", "admin", "expires_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    admin: bool
    expires_s: int
    def __init__(self, name: _Optional[str] = ..., admin: _Optional[bool] = ..., expires_s: _Optional[int] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("name", "token", "admin", "expire_time_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    token: str
    admin: bool
    expire_time_ms: int
    def __init__(self, name: _Optional[str] = ..., token: _Optional[str] = ..., admin: _Optional[bool] = ..., expire_time_ms: _Optional[int] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TokenInfo(_message.Message):
    __slots__ = ("name", "admin", "create_time_ms", "expire_time_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    admin: bool
    create_time_ms: int
    expire_time_ms: int
    def __init__(self, name: _Optional[str] = ..., admin: _Optional[bool] = ..., create_time_ms: _Optional[int] = ..., expire_time_ms: _Optional[int] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: bool
    def __init__(self, revoked: _Optional[bool] = ...) -> None: ...

class DatasetRef(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("party_id", "kind", "value", "create_time_ms")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    kind: str
    value: str
    create_time_ms: int
    def __init__(self, party_id: _Optional[str] = ..., kind: _Optional[str] = ..., value: _Optional[str] = ..., create_time_ms: _Optional[int] = ...) -> None: ...

class GrantPermissionRequest(_message.Message):
    __slots__ = ("party_id", "components", "datasets")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    components: _containers.RepeatedScalarFieldContainer[str]
    datasets: _containers.RepeatedCompositeFieldContainer[DatasetRef]
    def __init__(self, party_id: _Optional[str] = ..., components: _Optional[_Iterable[str]] = ..., datasets: _Optional[_Iterable[_Union[DatasetRef, _Mapping]]] = ...) -> None: ...

class GrantPermissionResponse(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ...) -> None: ...

class RevokePermissionRequest(_message.Message):
    __slots__ = ("party_id", "components", "datasets", "all")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    components: _containers.RepeatedScalarFieldContainer[str]
    datasets: _containers.RepeatedCompositeFieldContainer[DatasetRef]
    all: bool
    def __init__(self, party_id: _Optional[str] = ..., components: _Optional[_Iterable[str]] = ..., datasets: _Optional[_Iterable[_Union[DatasetRef, _Mapping]]] = ..., all: _Optional[bool] = ...) -> None: ...

class RevokePermissionResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class QueryPermissionRequest(_message.Message):
    __slots__ = ("party_id",)
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    def __init__(self, party_id: _Optional[str] = ...) -> None: ...

class QueryPermissionResponse(_message.Message):
    __slots__ = ("grants", "default_policy")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    default_policy: str
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ..., default_policy: _Optional[str] = ...) -> None: ...

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

class RerunJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class RerunJobResponse(_message.Message):
    __slots__ = ("job_id", "status", "tasks")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: _common_pb2.JobStatus
    tasks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ..., tasks: _Optional[_Iterable[str]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("status", "party_id", "limit", "job_id", "role")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    status: str
    party_id: str
    limit: int
    job_id: str
    role: str
    def __init__(self, status: _Optional[str] = ..., party_id: _Optional[str] = ..., limit: _Optional[int] = ..., job_id: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "count")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_common_pb2.JobView]
    count: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[_common_pb2.JobView, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("job_id", "status", "limit", "role", "party_id", "task_name")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    limit: int
    role: str
    party_id: str
    task_name: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "count")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskView]
    count: int
    def __init__(self, tasks: _Optional[_Iterable[_Union[_common_pb2.TaskView, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class CleanJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CleanJobResponse(_message.Message):
    __slots__ = ("job_id", "cleaned_party_ids")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CLEANED_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    cleaned_party_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_id: _Optional[str] = ..., cleaned_party_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetJobLogRequest(_message.Message):
    __slots__ = ("job_id", "role", "party_id", "task_name", "tail")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    role: str
    party_id: str
    task_name: str
    tail: int
    def __init__(self, job_id: _Optional[str] = ..., role: _Optional[str] = ..., party_id: _Optional[str] = ..., task_name: _Optional[str] = ..., tail: _Optional[int] = ...) -> None: ...

class GetJobLogResponse(_message.Message):
    __slots__ = ("source", "lines")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    source: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, source: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ...) -> None: ...

class ProviderInfo(_message.Message):
    __slots__ = ("name", "version", "device", "module", "path", "components", "builtin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    device: str
    module: str
    path: str
    components: _containers.RepeatedScalarFieldContainer[str]
    builtin: bool
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., device: _Optional[str] = ..., module: _Optional[str] = ..., path: _Optional[str] = ..., components: _Optional[_Iterable[str]] = ..., builtin: _Optional[bool] = ...) -> None: ...

class RegisterProviderRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: ProviderInfo
    def __init__(self, provider: _Optional[_Union[ProviderInfo, _Mapping]] = ...) -> None: ...

class RegisterProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: ProviderInfo
    def __init__(self, provider: _Optional[_Union[ProviderInfo, _Mapping]] = ...) -> None: ...

class QueryProviderRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class QueryProviderResponse(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[ProviderInfo]
    def __init__(self, providers: _Optional[_Iterable[_Union[ProviderInfo, _Mapping]]] = ...) -> None: ...

class DeleteProviderRequest(_message.Message):
    __slots__ = ("name", "version", "device")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    device: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class DeleteProviderResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...
