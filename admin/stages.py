"""A stage's settings as the deployed function sees them: from .chalice/config.json."""

from __future__ import annotations

import json
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


class UnknownStage(ValueError):
    pass


def stage_environment(stage: str, config_path: Path = CONFIG) -> dict[str, str]:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    stages = config.get("stages", {})
    if stage not in stages:
        raise UnknownStage(
            f"unknown stage {stage!r}; .chalice/config.json has: {', '.join(sorted(stages))}"
        )
    return {
        **config.get("environment_variables", {}),
        **stages[stage].get("environment_variables", {}),
    }
