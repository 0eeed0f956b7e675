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
# Worst case per call: 2 attempts x (1 s connect + 3 s read), so even a request that meets
# slow answers on every call ends within API Gateway's 29 s and the function's 30 s.
_CLIENT_CONFIG = {
    "connect_timeout": 1,
    "read_timeout": 3,
    "retries": {"mode": "standard", "total_max_attempts": 2},
}


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
        return self._session.client(service, config=Config(**_CLIENT_CONFIG))  # type: ignore[arg-type]


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code"))
    return None
