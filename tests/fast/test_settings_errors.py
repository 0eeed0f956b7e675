"""A bad setting stops the deployed function at import with one line that names the
function (and so the stage) and the variable (issue 14, trap 3)."""

from __future__ import annotations

import pytest

from chalicelib.runtime import Runtime
from chalicelib.settings import SettingsError


def test_on_lambda_a_missing_setting_names_the_function_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "vigor-leads-prod")
    with pytest.raises(SettingsError) as raised:
        Runtime.from_environment({"CONTENT_TABLE": "c", "LEADS_TABLE": "l"})
    message = str(raised.value)
    assert message.startswith("vigor-leads-prod: ALLOWED_ORIGINS is required but not set")
    assert "\n" not in message and "chalice deploy" in message


def test_elsewhere_the_message_is_the_settings_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    with pytest.raises(SettingsError, match=r"^CONTENT_TABLE is required but not set$"):
        Runtime.from_environment({})
