"""Lazily created, cached boto3 clients.

Nothing is created at import time (cold start), and each client is built once per
process. botocore itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so the
same code talks to real AWS, an embedded moto server or any compatible emulator.
"""

from __future__ import annotations

import threading
from typing import Any

# Short timeouts: a visitor is waiting, and a slow dependency must fail fast so the
# fallback channel (email when DynamoDB is down, retry when SES is down) can take over.
# DynamoDB writes here are conditional, so a second attempt is safe. SES SendEmail is not
# idempotent: a retry after a slow answer could mail sales twice, so SES gets one attempt
# (a failure leaves the lead pending and the retry sweep sends it, exactly once).
_ATTEMPTS = {"sesv2": 1}
_CLIENT_CONFIG = {"connect_timeout": 1, "read_timeout": 3}


class AwsClients:
    """Creates each boto3 client on first use and keeps it."""

    def __init__(self, session: Any = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._create(service)
                    self._clients[service] = client
        return client

    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    def sesv2(self) -> Any:
        return self.client("sesv2")

    def _create(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session()
        retries = {"mode": "standard", "total_max_attempts": _ATTEMPTS.get(service, 2)}
        config = Config(**_CLIENT_CONFIG, retries=retries)  # type: ignore[arg-type]
        if service == "s3":  # presigned POSTs and GETs signed with SigV4 (required by AWS)
            config = config.merge(Config(signature_version="s3v4"))
        return self._session.client(service, config=config)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code"))
    return None
