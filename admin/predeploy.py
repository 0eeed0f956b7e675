"""What `chalice deploy` and `chalice package` must not get past: checked before Chalice
builds anything, each problem one line on stderr, exit 1, no traceback.

Chalice imports app.py to learn the app's routes; when the chalice command line is what
imports it, app.py calls `refuse_a_bad_deploy(sys.argv[1:])` first (on Lambda argv is the
runtime's, and admin/ is not even in the deployment zip). Refused:

* an unknown stage: Chalice would deploy the top-level settings alone;
* a setting missing or invalid in .chalice/config.json itself. Chalice copies the stage's
  settings into its own environment before importing the app, so a variable exported in
  the admin's shell would let the import pass while the deployed function lacks it;
* a missing IAM policy file (`autogen_policy` is false: the file is the function's role);
* `deploy` only: the stage's tables missing in the target account and region (the data
  stack was not provisioned): the API would go live answering 500s.

`python manage.py check --stage S` checks all of this and more (SES identities, alarms,
the deployed functions); this is the part a deploy must never skip.

Once the checks pass, the app's own modules are compiled (`compile_for_lambda`): Lambda's
code directory is read-only, so without .pyc files in the zip every cold start compiles
chalicelib from source again (docs/performance.md). Chalice packs chalicelib/ whole,
__pycache__ included. The .pyc files are checked-hash ones: Python uses one only while its
source's hash matches, so a stale .pyc can never run old code, it is just compiled anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED_COMMANDS = ("deploy", "package")
DEFAULT_STAGE = "dev"  # Chalice's own default for --stage


def refuse_a_bad_deploy(argv: Sequence[str], config_path: Path | None = None) -> None:
    """Raise SystemExit with one line per problem when the chalice command must stop."""
    command, options = _command_line(argv)
    if command not in CHECKED_COMMANDS:
        return
    stage = options.get("--stage") or DEFAULT_STAGE
    problems = deploy_problems(stage, command == "deploy", options.get("--profile"), config_path)
    if problems:
        raise SystemExit("\n".join(f"error: {problem}" for problem in problems))
    compile_for_lambda()


def compile_for_lambda(package: Path = ROOT / "chalicelib") -> None:
    """Checked-hash .pyc files for every module of the package, for this Python version
    (the one running chalice, which is also the Lambda runtime Chalice picks)."""
    import compileall
    from py_compile import PycInvalidationMode

    if not compileall.compile_dir(
        package, quiet=2, invalidation_mode=PycInvalidationMode.CHECKED_HASH
    ):
        raise SystemExit(f"error: a module under {package.name}/ does not compile")


def deploy_problems(
    stage: str, needs_tables: bool, profile: str | None = None, config_path: Path | None = None
) -> list[str]:
    from admin.stages import CONFIG, UnknownStage, policy_path, stage_environment
    from chalicelib.settings import Settings, SettingsError

    config_path = config_path or CONFIG
    try:
        env = stage_environment(stage, config_path)
    except UnknownStage as exc:
        return [str(exc)]
    problems = []
    where = f".chalice/config.json (stages.{stage}.environment_variables)"
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        name = str(exc).split(" ", 1)[0]
        shell = " (your shell sets it, but the deployed function would not have it)"
        problems.append(f"stage {stage}: {exc} in {where}" + (shell if _in_shell(name) else ""))
        settings = None
    policy = policy_path(stage, config_path)
    if policy is not None and not policy.is_file():
        problems.append(
            f"stage {stage}: its IAM policy file .chalice/{policy.name} is missing"
            f" (`python manage.py stage policy {stage} --write` writes it)"
        )
    if needs_tables and settings is not None and not problems:
        problems += _missing_tables(stage, settings, profile)
    return problems


def _missing_tables(stage: str, settings: object, profile: str | None) -> list[str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.aws import error_code

    session = boto3.session.Session(profile_name=profile)
    region = session.region_name or "(no region)"
    missing = []
    try:
        dynamodb = session.client("dynamodb")
        for table in (settings.content_table, settings.leads_table):  # type: ignore[attr-defined]
            try:
                dynamodb.describe_table(TableName=table)
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                missing.append(table)
    except (BotoCoreError, ClientError) as exc:
        return [f"stage {stage}: cannot check its tables in {region}: {exc}"]
    if not missing:
        return []
    return [
        f"stage {stage}: the data stack is not provisioned in {region} (no table"
        f" {', '.join(missing)}): run `python manage.py provision --stage {stage}` first"
    ]


def _in_shell(name: str) -> bool:
    """Whether the admin's shell (not config.json) set this variable: Chalice puts the
    stage's settings into the environment it imports the app in, so a variable config.json
    lacks can only have come from the shell."""
    import os

    return bool(os.environ.get(name, "").strip())


def _command_line(argv: Sequence[str]) -> tuple[str | None, dict[str, str]]:
    """The chalice sub-command and its --stage/--profile values (both spellings)."""
    command = None
    options: dict[str, str] = {}
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
            options[name] = value
        elif word in ("--stage", "--profile", "--project-dir") and index + 1 < len(words):
            options[word] = words[index + 1]
            index += 1
        elif not word.startswith("-") and command is None:
            command = word
        index += 1
    return command, options
