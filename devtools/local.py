"""`make run`: the whole service on one machine.

An embedded moto server (loopback, its own port) stands in for AWS unless AWS_ENDPOINT_URL
points elsewhere; the data stack is created from the production CloudFormation template,
the seed is loaded, the SES sender verified; the API is served with `chalice local`
semantics, and the static site is built from the content (`manage.py site build`) and served
on its own port (a different origin). A background
thread plays the 5-minute schedule (the retry sweep, then chat alerts, reminders and the
daily digest), on a fast clock if asked (`--fast-clock 60`: an hour passes every minute).
Every email SES accepts is copied to the outbox folder.
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
BUILT_SITE_DIR = ROOT / "build" / "site" / "local"  # where `news publish --stage local` rebuilds
LOCAL_STAGE = "local"
RETRY_INTERVAL_SECONDS = 30.0


@dataclass
class LocalOptions:
    host: str = "127.0.0.1"
    api_port: int = 8000
    site_port: int = 8001
    moto_port: int = 0  # 0: any free port
    outbox: Path = ROOT / "outbox"
    endpoint_url: str | None = None  # an emulator already running; None: embed moto
    use_aws: bool = False  # real AWS with the caller's credentials: no emulator, no provisioning
    quiet: bool = False  # no access log from the API server
    env: Mapping[str, str] = field(default_factory=dict)  # settings overrides
    # botocore before-call hooks for the app's clients (tests: fault injection, counting)
    hooks: tuple[Callable[..., Any], ...] = ()
    # the built static site served on site_port; None: a temporary folder, removed by stop()
    site_dir: Path | None = None
    # the app's clock runs this many times faster than real time (reminders and the
    # digest come round in minutes); 1: the real clock
    fast_clock: float = 1.0


class FastClock:
    """Epoch seconds that start now and pass `factor` times faster than real time."""

    def __init__(self, factor: float, real: Callable[[], float] = time.time) -> None:
        self._factor, self._real = factor, real
        self._started = real()

    def __call__(self) -> float:
        return self._started + (self._real() - self._started) * self._factor


class LocalService:
    """Start with start(), stop with stop(); URLs are known once started."""

    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.api_url = ""
        self.site_url = ""
        self.endpoint_url = ""
        self.runtime: Runtime | None = None  # set by start()
        self.settings_env: dict[str, str] = {}  # the app's settings, set by start()
        self._moto: Any = None  # moto.server.ThreadedMotoServer, when embedded
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._urls: dict[str, str] = {}
        self._temporary_site: tempfile.TemporaryDirectory[str] | None = None
        if options.site_dir is None:
            self._temporary_site = tempfile.TemporaryDirectory(prefix="vigor-site-")
            self.site_dir = Path(self._temporary_site.name) / "site"
        else:
            self.site_dir = options.site_dir

    def start(self) -> LocalService:
        options = self.options
        if options.use_aws:
            self.endpoint_url = "AWS, with your credentials"
        else:
            self.endpoint_url = options.endpoint_url or self._start_moto()
            _use_endpoint(self.endpoint_url)
        # where the browser uploads attachments (presigned POSTs): the site's CSP allows it
        self._urls["uploads"] = "https://*.amazonaws.com" if options.use_aws else self.endpoint_url
        if not options.api_port:  # chosen now: the settings name it (PUBLIC_API_URL)
            from devtools.emulator import free_port

            options = self.options = dataclasses.replace(options, api_port=free_port(options.host))
        site = self._serve_site()
        self.site_url = self._urls["site"] = f"http://{options.host}:{site.server_address[1]}"
        settings_env = self.settings_env = self._settings_env()
        import boto3

        from admin.provision import deploy_stack, verify_sender
        from admin.seed import load_seed
        from chalicelib.aws import AwsClients
        from chalicelib.runtime import Runtime
        from chalicelib.settings import Settings

        session = boto3.session.Session()
        for hook in options.hooks:
            session.events.register("before-call", hook)
        clock = FastClock(options.fast_clock) if options.fast_clock != 1 else time.time
        runtime = self.runtime = Runtime(
            Settings.from_env(settings_env), AwsClients(session), clock=clock
        )
        if not options.use_aws:  # an emulator starts empty: build and fill it like prod
            from admin.keys import ensure_link_key
            from chalicelib.settings import ssm_parameter

            origins = runtime.settings.allowed_origins  # the uploads bucket's CORS
            deploy_stack(session.client("cloudformation"), LOCAL_STAGE, allowed_origins=origins)
            verify_sender(runtime.clients.sesv2(), runtime.settings.sender_email)
            load_seed(runtime.content)
            if runtime.settings.uploads_bucket:  # bound to the emulator now, as the others
                runtime.clients.client("s3")
            link_key = ssm_parameter(runtime.settings.link_key)
            if link_key is not None:  # as `provision` creates it
                ensure_link_key(runtime.clients.client("ssm"), link_key)
        self._serve_api(runtime)
        if runtime.settings.public_api_url is None:  # the action links point here
            settings_env["PUBLIC_API_URL"] = self.api_url
            runtime.settings = Settings.from_env(settings_env)
        self.build_site()
        self._start_retry_loop(runtime)
        return self

    def build_site(self) -> None:
        """Render the static site from the content, as `manage.py site build` does."""
        from admin.site_build import build_site

        assert self.runtime is not None, "start() first"
        build_site(self.runtime.content, self.site_dir, self.site_url, self.api_url)

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._temporary_site is not None:
            self._temporary_site.cleanup()
            self._temporary_site = None

    # ---- parts -------------------------------------------------------------------

    def _start_moto(self) -> str:
        from devtools.emulator import start_moto_server

        self._moto, url = start_moto_server(self.options.host, self.options.moto_port)
        return url

    def _settings_env(self) -> dict[str, str]:
        from admin.provision import table_names

        default_origins = f"{self.site_url},{self.site_url.replace('127.0.0.1', 'localhost')}"
        env = {
            **table_names(LOCAL_STAGE),
            "ALLOWED_ORIGINS": default_origins,
            "SENDER_EMAIL": "Vigor Leads <leads@vigorautomobile.com>",
            "SALES_EMAILS": "sales@vigorautomobile.com",
            "AUTOREPLY_ENABLED": "true",
            "OUTBOX_DIR": str(self.options.outbox),
            # attachments: the uploads bucket, and links for files too large to mail
            "UPLOADS_BUCKET": f"vigor-leads-{LOCAL_STAGE}-uploads",
            "PUBLIC_API_URL": f"http://{self.options.host}:{self.options.api_port}",
            # the key of every signed link (actions, downloads), created in the emulator
            "LINK_KEY": f"ssm:/vigor-leads/{LOCAL_STAGE}/link-key",
        }
        env.update(self.options.env)
        if self.options.use_aws:  # the stage's settings, but the local demo site may call it
            env["ALLOWED_ORIGINS"] += "," + default_origins
        return env

    def _serve_api(self, runtime: Runtime) -> None:
        from chalice.config import Config

        from chalicelib.bootstrap import create_app
        from devtools.api_server import api_server

        app = create_app(runtime)
        config = Config.create(chalice_stage="dev", app_name="vigor-leads", project_dir=str(ROOT))
        options = self.options
        server = api_server(app, config, options.host, options.api_port, options.quiet)
        self.api_url = f"http://{self.options.host}:{server.server.server_address[1]}"
        self._urls["api"] = self.api_url
        self._servers.append(server.server)
        self._thread(server.server.serve_forever, "api")

    def _serve_site(self) -> http.server.ThreadingHTTPServer:
        from devtools.site_server import site_server

        self.site_dir.mkdir(parents=True, exist_ok=True)
        server = site_server(self.site_dir, self.options.host, self.options.site_port, self._urls)
        self._servers.append(server)
        self._thread(server.serve_forever, "site")
        return server

    def _start_retry_loop(self, runtime: Runtime) -> None:
        from chalicelib.followup.sweeps import run_follow_ups
        from chalicelib.inquiries.retry import retry_pending

        # Every 5 minutes of the app's clock, as the schedule, and at most every 30 s.
        interval = max(1.0, min(RETRY_INTERVAL_SECONDS, 300 / self.options.fast_clock))

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:  # what the scheduled function does (chalicelib/bootstrap.py)
                    retry_pending(runtime.leads, runtime.inquiries, runtime.clock)
                    run_follow_ups(runtime)
                except Exception as exc:  # the emulator may be gone during shutdown
                    print(f"sweep failed: {exc}", flush=True)

        self._thread(loop, "retry")

    def _thread(self, target: Callable[[], object], name: str) -> None:
        thread = threading.Thread(target=target, name=f"local-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)


def _use_endpoint(url: str) -> None:
    """Point every boto3 client of this process at the emulator, with dummy credentials."""
    os.environ["AWS_ENDPOINT_URL"] = url
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)


def publish_local_stage(service: LocalService, path: Path | None = None) -> Path:
    """Tell the admin commands how to reach this service (`manage.py ... --stage local`):
    its emulator's endpoint and region and the app's settings, in build/local-stage.json,
    with this process's id so that a file left by a killed run is recognized as stale."""
    import json

    from admin.stages import LOCAL_STAGE_FILE

    path = path or LOCAL_STAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    published = {
        "pid": os.getpid(),
        "endpoint_url": service.endpoint_url,
        "region": service.runtime.clients.dynamodb().meta.region_name if service.runtime else "",
        "api_url": service.api_url,
        "site_url": service.site_url,
        "env": service.settings_env,
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(published, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def serve_until_interrupted(options: LocalOptions) -> None:
    import logging
    import warnings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # moto's CloudFormation skips the alarms (README, "Deploying"): said once per alarm, noise
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", "Tried to parse AWS::", UserWarning)
    if options.site_dir is None:  # where `manage.py news publish --stage local` rebuilds it
        options = dataclasses.replace(options, site_dir=BUILT_SITE_DIR)
    service = LocalService(options).start()
    published = None if options.use_aws else publish_local_stage(service)
    print(
        "\nVigor Leads is running (Ctrl-C stops everything):\n"
        f"  API        {service.api_url}   e.g. curl {service.api_url}/news\n"
        f"  demo site  {service.site_url}   (built into {service.site_dir})\n"
        f"  AWS        {service.endpoint_url}   (tables, SES)\n"
        f"  outbox     {options.outbox}   (every email SES accepted)\n"
        + (
            f"  clock      {options.fast_clock:g}x real time: reminders and the daily digest"
            " come round in minutes\n"
            if options.fast_clock != 1
            else ""
        )
        + (
            "  admin      python manage.py leads list --stage local   (any command)\n"
            if published
            else ""
        ),
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        if published is not None:
            published.unlink(missing_ok=True)
        service.stop()
