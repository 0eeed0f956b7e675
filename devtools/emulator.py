"""moto, the AWS emulator of the tests, `make run` and the bench, and the gaps between it and
AWS that this project would hit.

1. DynamoDB isolation. moto runs TransactWriteItems by deep-copying the tables and
   restoring that copy when the transaction fails. Two concurrent requests can therefore
   undo each other's committed writes — something real DynamoDB never does, and exactly
   what the idempotency and retry races exercise. Serializing moto's write operations
   restores DynamoDB's semantics (each write and each transaction is atomic and isolated).

2. AWS::SES::ConfigurationSet in CloudFormation. moto's SES models the configuration set
   (CreateConfigurationSet, GetConfigurationSet) but its CloudFormation does not know the
   resource type: it would skip it with a warning, and the data stack in the emulator
   would lack what production has. A small CloudFormation model backed by moto's own SES
   backend lets infra/resources.json stay the single source of truth, unchanged.

3. Transaction cost (opt-in, `cheap_transaction_rollback()`, for the load test and the
   bench): moto's rollback copy of a whole table per TransactWriteItems makes a transaction
   O(table size) and leaks memory; the patch copies only the items a transaction names.

4. API Gateway and Swagger 2.0 (so that `chalice deploy` runs against the emulator).
   Chalice creates the REST API with ImportRestApi and updates it with PutRestApi, both
   with the Swagger 2.0 document it generates. moto implements the two for OpenAPI 3
   only: ImportRestApi reads `info.description`, which Chalice does not write (KeyError,
   an HTTP 500), and PutRestApi refuses any document with a `swagger` key. What moto reads
   of the document (paths, methods, responses, x-amazon-apigateway-integration) has the
   same shape in both versions, so the shim hands moto the same document labelled
   OpenAPI 3 with an empty description. Nothing else changes: the routes, methods and
   Lambda integrations moto records are Chalice's.

5. The SES account (SESv2 GetAccount, PutAccountDetails), which moto's SESv2 lacks: the
   shim answers as AWS does for a new account, in the sandbox (200 messages per 24 hours,
   1 per second). PutAccountDetails records the request for production access, which stays
   under review as on AWS; `grant_production_access()` plays AWS granting it. The state is
   kept on moto's SESv2 backend, so a moto reset forgets it.

6. A table's TimeToLiveSpecification and PointInTimeRecoverySpecification in CloudFormation:
   moto's CloudFormation creates the table without them (TTL and point-in-time recovery
   read back DISABLED), so `manage.py check` would report the template's own settings as
   missing. The shim applies both, through moto's own UpdateTimeToLive and
   UpdateContinuousBackups, when CloudFormation creates a table.

7. An S3 bucket's CorsConfiguration, LifecycleConfiguration and
   PublicAccessBlockConfiguration in CloudFormation: moto's CloudFormation applies only the
   encryption. The shim applies the three through moto's own S3 backend when CloudFormation
   creates a bucket, so the uploads bucket of the tests and of `make run` has the template's
   CORS origins (the stage's ALLOWED_ORIGINS) and rules. (moto does not run lifecycle rules,
   nor enforce a presigned POST's policy: the app checks every file itself.)

`serialize_moto_dynamodb_writes()` (the name its callers know) applies 1, 2, 4, 5, 6 and 7; it
is idempotent and only touches moto, never the code that runs on AWS.
`start_moto_server()` applies them and starts a moto server on a loopback port.
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
)
_lock = threading.RLock()
_applied = False


def serialize_moto_dynamodb_writes() -> None:
    """Apply every moto patch this project needs (see the module docstring)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue
        setattr(DynamoDBBackend, name, _locked(original))
    register_ses_configuration_set_in_cloudformation()
    accept_swagger_2_in_api_gateway()
    answer_ses_account_requests()
    apply_table_ttl_and_recovery_in_cloudformation()
    apply_bucket_rules_in_cloudformation()
    _applied = True


def start_moto_server(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """A patched moto server on `host` (port 0: a free one), started; (server, endpoint URL).
    Stop it with server.stop()."""
    from moto.server import ThreadedMotoServer

    serialize_moto_dynamodb_writes()
    port = port or free_port(host)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server, f"http://{host}:{port}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def register_ses_configuration_set_in_cloudformation() -> None:
    """Teach moto's CloudFormation AWS::SES::ConfigurationSet (idempotent)."""
    from moto.cloudformation import parsing

    if "AWS::SES::ConfigurationSet" in parsing.get_model_map():
        return
    _ses_configuration_set_model()  # defining the subclass registers it with moto
    # moto caches the list of CloudFormationModel subclasses: make it look again.
    for cached in ("get_model_list", "get_model_map", "get_name_type_map"):
        function = getattr(parsing, cached, None)
        if function is not None and hasattr(function, "cache_clear"):
            function.cache_clear()


def _ses_configuration_set_model() -> type:
    from moto.core.common_models import CloudFormationModel
    from moto.ses.models import ses_backends

    class SesConfigurationSet(CloudFormationModel):
        """The CloudFormation face of moto's SES configuration set."""

        def __init__(self, name: str) -> None:
            self.name = name

        @property
        def physical_resource_id(self) -> str:
            return self.name  # Ref returns the configuration set's name, as on AWS

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SES::ConfigurationSet"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> SesConfigurationSet:
            properties = cloudformation_json.get("Properties", {})
            name = properties.get("Name") or resource_name
            ses_backends[account_id][region_name].create_configuration_set_v2(
                configuration_set_name=name,
                tracking_options=properties.get("TrackingOptions") or {},
                delivery_options=properties.get("DeliveryOptions") or {},
                reputation_options=properties.get("ReputationOptions") or {},
                # moto keeps the flag itself here (it answers {"SendingEnabled": <this>})
                sending_options=(properties.get("SendingOptions") or {}).get(
                    "SendingEnabled", True
                ),
                tags=[],
                suppression_options=properties.get("SuppressionOptions") or {},
                vdm_options=properties.get("VdmOptions") or {},
            )
            return cls(name)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: SesConfigurationSet,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> SesConfigurationSet:
            backend = ses_backends[account_id][region_name]
            if original_resource.name in backend.config_sets:
                backend.delete_configuration_set(original_resource.name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        @classmethod
        def delete_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> None:
            backend = ses_backends[account_id][region_name]
            if resource_name in backend.config_sets:
                backend.delete_configuration_set(resource_name)

        def is_created(self) -> bool:
            return True

    return SesConfigurationSet


def accept_swagger_2_in_api_gateway() -> None:
    """Let moto's ImportRestApi and PutRestApi take Chalice's Swagger 2.0 (point 4 above)."""
    from moto.apigateway.models import APIGatewayBackend

    if getattr(APIGatewayBackend, "_vigor_swagger_2", False):
        return
    import_rest_api = APIGatewayBackend.import_rest_api
    put_rest_api = APIGatewayBackend.put_rest_api

    def importing(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return import_rest_api(self, _as_openapi_3(api_doc), fail_on_warnings)

    def putting(
        self: Any,
        function_id: str,
        api_doc: dict[str, Any],
        fail_on_warnings: bool,
        mode: str = "merge",
    ) -> Any:
        return put_rest_api(self, function_id, _as_openapi_3(api_doc), fail_on_warnings, mode)

    APIGatewayBackend.import_rest_api = importing  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = putting  # type: ignore[method-assign]
    APIGatewayBackend._vigor_swagger_2 = True  # type: ignore[attr-defined]


def _as_openapi_3(api_doc: dict[str, Any]) -> dict[str, Any]:
    if "swagger" not in api_doc:
        return api_doc
    document = {key: value for key, value in api_doc.items() if key != "swagger"}
    document["openapi"] = "3.0.1"
    document["info"] = {"description": "", **api_doc.get("info", {})}
    return document


def apply_table_ttl_and_recovery_in_cloudformation() -> None:
    """TTL and point-in-time recovery of a table CloudFormation creates (point 6 above)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    def apply(table: Any, properties: dict[str, Any], account_id: str, region: str) -> None:
        backend = dynamodb_backends[account_id][region]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            backend.update_time_to_live(table.name, ttl)
        recovery = properties.get("PointInTimeRecoverySpecification")
        if recovery:
            backend.update_continuous_backups(table.name, recovery)

    _after_cloudformation_creates(Table, apply)


def apply_bucket_rules_in_cloudformation() -> None:
    """CORS, lifecycle and public access block of a bucket CloudFormation creates (point 7)."""
    from moto.s3.models import FakeBucket, s3_backends

    def apply(bucket: Any, properties: dict[str, Any], account_id: str, region: str) -> None:
        backend = s3_backends[account_id]["aws"]
        cors = properties.get("CorsConfiguration", {}).get("CorsRules")
        if cors:
            backend.put_bucket_cors(bucket.name, [_cors_rule(rule) for rule in cors])
        lifecycle = properties.get("LifecycleConfiguration", {}).get("Rules")
        if lifecycle:
            rules = [_lifecycle_rule(rule) for rule in lifecycle]
            backend.put_bucket_lifecycle_configuration(bucket.name, rules)
        block = properties.get("PublicAccessBlockConfiguration")
        if block:
            backend.put_public_access_block(bucket.name, block)

    _after_cloudformation_creates(FakeBucket, apply)


def _after_cloudformation_creates(
    model: Any, apply: Callable[[Any, dict[str, Any], str, str], None]
) -> None:
    """Wrap moto's `create_from_cloudformation_json` of a resource class so that `apply`
    then sets, with the backend's own API, the properties moto's CloudFormation ignores.
    Once per class: patching twice would apply twice."""
    if getattr(model, "_vigor_after_create", False):
        return
    create = model.create_from_cloudformation_json

    def creating(
        cls: Any,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        made = create(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply(made, cloudformation_json.get("Properties", {}), account_id, region_name)
        return made

    model.create_from_cloudformation_json = classmethod(creating)  # type: ignore[arg-type]
    model._vigor_after_create = True


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule as moto's S3 backend takes it (the XML API's names)."""
    origins = rule["AllowedOrigins"]
    if isinstance(origins, str):  # moto resolves a CommaDelimitedList parameter to its text
        origins = [origin.strip() for origin in origins.split(",")]
    converted: dict[str, Any] = {
        "AllowedMethod": list(rule["AllowedMethods"]),
        "AllowedOrigin": list(origins),
        "AllowedHeader": list(rule.get("AllowedHeaders", [])),
        "ExposeHeader": list(rule.get("ExposedHeaders", [])),
    }
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = str(rule["MaxAge"])
    if "Id" in rule:
        converted["ID"] = str(rule["Id"])
    return converted


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    converted["Prefix"] = rule.get("Prefix", "")
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(days)}
    return converted


SANDBOX_QUOTA = {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}
PRODUCTION_QUOTA = {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 0.0}


def answer_ses_account_requests() -> None:
    """SESv2 GetAccount and PutAccountDetails in moto (point 5 above)."""
    import json

    from moto.sesv2.responses import SESV2Response

    if hasattr(SESV2Response, "get_account"):
        return

    def get_account(self: Any) -> str:
        state = _ses_account(self.sesv2_backend)
        production = state["production"]
        answer: dict[str, Any] = {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": production,
            "SendQuota": PRODUCTION_QUOTA if production else SANDBOX_QUOTA,
            "SendingEnabled": True,
        }
        if state["details"] is not None:
            status = "GRANTED" if production else "PENDING"
            answer["Details"] = {**state["details"], "ReviewDetails": {"Status": status}}
        return json.dumps(answer)

    def put_account_details(self: Any) -> str:
        details = json.loads(self.body or "{}")
        _ses_account(self.sesv2_backend)["details"] = {
            key: value for key, value in details.items() if key != "ProductionAccessEnabled"
        }
        return "{}"

    SESV2Response.get_account = get_account  # type: ignore[attr-defined]
    SESV2Response.put_account_details = put_account_details  # type: ignore[attr-defined]
    # The moto server routes only the paths its urls module lists (its catch-all "/v2/.*"
    # matches one path segment there): list the two, before a server is created.
    from moto.sesv2 import urls

    for path in ("{0}/v2/email/account$", "{0}/v2/email/account/details$"):
        urls.url_paths.setdefault(path, SESV2Response.dispatch)


def grant_production_access(account_id: str, region: str) -> None:
    """Play AWS granting the account production access (the emulator only)."""
    from moto.sesv2.models import sesv2_backends

    _ses_account(sesv2_backends[account_id][region])["production"] = True


def _ses_account(backend: Any) -> dict[str, Any]:
    state: dict[str, Any] | None = getattr(backend, "_vigor_account", None)
    if state is None:
        state = {"production": False, "details": None}
        backend._vigor_account = state
    return state


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return wrapper


# ---- moto: transactions without copying whole tables ------------------------------------

_touched = threading.local()


@contextmanager
def cheap_transaction_rollback() -> Iterator[None]:
    """Make moto's TransactWriteItems O(items touched) instead of O(table size), same semantics.

    moto saves a copy.deepcopy() of every table a transaction touches, to restore it if the
    transaction is cancelled. With a few thousand leads that copy takes longer than the
    app's whole request, holds the GIL and the emulator's write lock, and under concurrency
    pushes calls past the app's 5 s read timeout: the load would measure the emulator.
    moto also records every model instance it creates in a class-level list emptied only by
    a reset, so each of those copies stays in memory for good (1.8 GB per transaction on a
    table of 100,000 leads). While this is active, the saved copy shares every item the
    transaction cannot change and deep-copies the ones it names (Put/Update/Delete/
    ConditionCheck keys), so a rollback restores exactly the same state, and it is built
    without moto's instance tracking. Writes stay serialized (serialize_moto_dynamodb_writes).
    Undone on exit.
    """
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    namespace = vars(models)  # where moto's `import copy` put the stdlib module
    real_copy = namespace["copy"]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        _touched.keys = _keys_of(self, transact_items)
        try:
            return original(self, transact_items)
        finally:
            _touched.keys = None

    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    namespace["copy"] = _CopyShim(real_copy)
    try:
        yield
    finally:
        backend.transact_write_items = original  # type: ignore[method-assign]
        namespace["copy"] = real_copy


class _CopyShim:
    """Stands in for the `copy` module inside moto.dynamodb.models."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        keys = getattr(_touched, "keys", None)
        if keys is None or not isinstance(value, Table):
            return self._real.deepcopy(value, memo)
        return _snapshot(value, keys.get(value.name, ()), self._real)


def _keys_of(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: dict[str, list[Any]] = {}
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or not isinstance(source, dict):
                continue
            try:
                hash_key = DynamoType(source[table.hash_key_attr])
                range_key = (
                    DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
                )
            except (KeyError, TypeError):
                continue  # moto reports the invalid request itself
            keys.setdefault(table.name, []).append((hash_key, range_key))
    return keys


def _snapshot(table: Any, keys: list[Any], real_copy: Any) -> Any:
    # Not copy.copy(): moto's BaseModel.__new__ records every instance in a class-level list
    # that is only emptied by a reset, so each saved copy would stay in memory for good.
    snapshot = object.__new__(type(table))
    snapshot.__dict__.update(table.__dict__)
    items = type(table.items)(dict) if table.range_key_attr else type(table.items)()
    for hash_key, rows in table.items.items():
        items[hash_key] = dict(rows) if table.range_key_attr else rows
    for hash_key, range_key in keys:
        if hash_key not in table.items:
            continue
        if table.range_key_attr:
            item = table.items[hash_key].get(range_key)
            if item is not None:
                items[hash_key][range_key] = real_copy.deepcopy(item)
        else:
            items[hash_key] = real_copy.deepcopy(table.items[hash_key])
    snapshot.items = items
    return snapshot
