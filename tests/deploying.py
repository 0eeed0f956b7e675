"""Deploying against the emulator: a moto server in this process (with devtools/emulator.py's
patches, among them the Swagger 2.0 shim `chalice deploy` needs), a copy of the repository
for Chalice to deploy from (it writes .chalice/deployed/<stage>.json there, never into the
developer's own checkout), and the chalice command line run against both."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-central-1"  # docs/deploy.md's
ACCOUNT = "123456789012"  # moto's
COPIED = ("app.py", "manage.py", "requirements.txt", "chalicelib", "admin", "devtools", "infra",
          "seed", "templates", ".chalice/config.json")  # fmt: skip


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Emulator:
    url: str
    env: dict[str, str]  # what a process needs to reach it: endpoint, fake credentials, region

    def client(self, service: str) -> Any:
        # A fresh session: boto3's default one keeps the config files it read first, and
        # the walkthrough writes the admin's profile into a new HOME.
        return boto3.session.Session().client(
            service,
            endpoint_url=self.url,
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()


@contextmanager
def emulator(region: str = REGION) -> Iterator[Emulator]:
    from devtools.emulator import start_moto_server

    server, url = start_moto_server()
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
    }
    running = Emulator(url, env)
    running.reset()  # moto's state is the process's: start empty, whatever ran before
    try:
        yield running
    finally:
        server.stop()
        running.reset()


def copy_project(target: Path) -> Path:
    """The repository's deployable files, and its policy files, copied to `target`; the
    deployment-package cache (.chalice/deployments, gitignored) is shared with the checkout
    so the libraries are built once."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for policy in (ROOT / ".chalice").glob("policy-*.json"):
        shutil.copy2(policy, target / ".chalice" / policy.name)
    (target / "vendor").mkdir()
    (target / "vendor" / "templates").symlink_to("../templates")
    cache = ROOT / ".chalice" / "deployments"
    cache.mkdir(exist_ok=True)
    (target / ".chalice" / "deployments").symlink_to(cache)
    return target


def chalice(project: Path, env: dict[str, str], *argv: str) -> Run:
    """The chalice command line, as an admin types it, in `project` with `env` only."""
    binary = Path(sys.executable).parent / "chalice"
    done = subprocess.run(
        [str(binary), *argv],
        cwd=project,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(project), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(done.returncode, done.stdout, done.stderr)
