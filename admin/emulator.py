"""Two gaps between moto and AWS that this project's tests and `make run` would hit.

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

`serialize_moto_dynamodb_writes()` (the name its callers know) applies both; it is
idempotent and only touches moto, never the code that runs on AWS.
"""

from __future__ import annotations

import functools
import threading
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
    _applied = True


patch_moto = serialize_moto_dynamodb_writes


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


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return wrapper
