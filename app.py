"""Servicekanal: the only place that builds things, and the command line that runs them.

settings -> engine -> clients -> services -> Bolt app -> run
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

import handlers
from bot import logs
from bot.clock import Clock, system_clock
from bot.config import Settings, describe_settings_error
from bot.errors import Refused
from bot.health import Health
from bot.leader import Leadership, leadership_for
from bot.metrics import Metrics
from bot.services import Services, SlackSide, personal_data_detector
from bot.slack import CountingWebClient, HomePublisher, SlackDirectory, SlackPoster
from bot.x import XClient, XSide
from bot.x_models import XAuthFailed, XError, XUser
from handlers.blocks.cards import BlockKitPresenter
from handlers.home import render_home
from handlers.http import HttpServer, slack_endpoint
from store.db import make_engine, migrate

log = logging.getLogger("servicekanal")

DESCRIPTION = """\
Servicekanal: customer tweets to your brand's X account become tickets in a Slack channel.

Settings come from the environment or from a .env file (see .env.example).
"""
MODES = """\
commands:
  run       (default) migrate the database, then serve Slack and poll X
  migrate   apply database migrations and exit (reads only DATABASE_URL)
  check     validate the settings and exit; --online also asks Slack and X
  sandbox   try it without accounts: the bot against stand-ins of Slack and X,
            in a web page at http://127.0.0.1:8080 (--port, --keep); needs no .env
  groups FILE
            group the texts of a JSON-lines file (id, text) as the bot would and print
            {"id": ..., "group": <int or null>} per line (reads only the GROUP_ settings)

Slack connection modes:
  Socket Mode  when SLACK_APP_TOKEN (xapp-...) is set: the bot connects out to Slack,
               no public URL is needed. GET /healthz is served on HEALTH_PORT if set.
  HTTP mode    otherwise: Slack sends commands, interactivity and events to
               POST /slack/events on PORT (default 3000), verified with
               SLACK_SIGNING_SECRET; GET /healthz answers on the same port.
"""
STARTUP_ATTEMPTS = 6
SANDBOX_PORT = 8080
SANDBOX_SAVE_SECONDS = 5.0  # how often `sandbox --keep` material is written
LISTENER_THREADS = 16  # waitress threads and Bolt listener threads each
X_BUDGET_FLUSH_SECONDS = 5  # how often this replica adds its X request counts to the database


class StartupError(Exception):
    """Start-up cannot continue; the message says why in one line."""


class DatabaseSettings(BaseSettings):
    """Just DATABASE_URL, for `python app.py migrate` on a machine without the tokens."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
    database_url: str = "sqlite:///servicekanal.db"


def _with_retries(what: str, call: Callable[[], Any], *, attempts: int = STARTUP_ATTEMPTS) -> Any:
    """Retry a start-up call while the service is unreachable (not when it says no).

    Said once, not at every attempt: the outcome is what matters.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (OSError, XError) as exc:
            if isinstance(exc, XAuthFailed) or attempt == attempts:
                raise
            if attempt == 1:
                log.warning(
                    "%s not reachable (%s); trying again for about a minute",
                    what,
                    type(exc).__name__,
                )
            time.sleep(min(2**attempt, 30))
    raise AssertionError("unreachable")


def slack_identity(client: WebClient) -> tuple[str, str]:
    """The workspace and the bot user behind SLACK_BOT_TOKEN (`auth.test`)."""
    try:
        response = _with_retries("Slack", client.auth_test)
    except SlackApiError as exc:
        raise StartupError(
            f"SLACK_BOT_TOKEN was rejected by Slack ({exc.response.get('error')})"
        ) from None
    except OSError as exc:
        raise StartupError(f"cannot reach Slack at SLACK_API_URL ({exc})") from None
    return str(response["team_id"]), str(response["user_id"])


def x_identity(x: XClient) -> XUser:
    """The brand account behind the X credentials (`GET /2/users/me`)."""
    try:
        brand: XUser = _with_retries("X", x.me)
    except XAuthFailed:
        raise StartupError(
            "X rejected X_API_KEY / X_API_SECRET / X_ACCESS_TOKEN / X_ACCESS_TOKEN_SECRET"
        ) from None
    except XError as exc:
        raise StartupError(f"cannot read the brand account from X at X_API_URL ({exc})") from None
    return brand


def x_client(settings: Settings, *, timeout: float, clock: Clock = system_clock) -> XClient:
    """The X client with the brand account's credentials."""
    return XClient(
        bearer_token=settings.x_bearer_token.get_secret_value(),
        api_key=settings.x_api_key.get_secret_value(),
        api_secret=settings.x_api_secret.get_secret_value(),
        access_token=settings.x_access_token.get_secret_value(),
        access_token_secret=settings.x_access_token_secret.get_secret_value(),
        base_url=settings.x_api_url,
        timeout=timeout,
        clock=clock,
    )


def check_online(settings: Settings) -> bool:
    """`check --online`: one `auth.test` at Slack and one `GET /2/users/me` at X, reported."""
    healthy = True
    slack = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[],
    )
    try:
        me = slack.auth_test()
        print(
            f"Slack: ok, bot user {me.get('user')} ({me.get('user_id')}) "
            f"in workspace {me.get('team')} ({me.get('team_id')})"
        )
    except SlackApiError as exc:
        print(f"Slack: SLACK_BOT_TOKEN was rejected ({exc.response.get('error')})")
        healthy = False
    except OSError as exc:
        print(f"Slack: cannot reach SLACK_API_URL {settings.slack_api_url} ({type(exc).__name__})")
        healthy = False
    try:
        brand = x_client(settings, timeout=10).me()
        print(f"X: ok, brand account @{brand.username} ({brand.id})")
    except XAuthFailed:
        print("X: X_API_KEY / X_API_SECRET / X_ACCESS_TOKEN / X_ACCESS_TOKEN_SECRET were rejected")
        healthy = False
    except XError as exc:
        print(f"X: cannot reach X_API_URL {settings.x_api_url} ({type(exc).__name__})")
        healthy = False
    return healthy


@dataclass
class Bot:
    """A built Servicekanal: the Bolt app plus its background workers."""

    settings: Settings
    engine: Engine
    services: Services
    app: App
    poster: SlackPoster
    homes: HomePublisher
    health: Health
    leadership: Leadership
    metrics: Metrics
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)
    _scheduler: BackgroundScheduler | None = field(default=None, init=False)

    # -- background work -----------------------------------------------------------------

    def start_background(self, *, poll: bool = True) -> None:
        """Start the posting worker and the scheduler (X polling, housekeeping)."""
        workers = (
            ("slack-poster", self.poster.run),
            ("app-home", self.homes.run),
            ("x-outbox", self.services.x_outbox.run),
        )
        for name, work in workers:
            thread = threading.Thread(target=work, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        scheduler = BackgroundScheduler(timezone="UTC")
        sweep_every = self.settings.sweep_interval_seconds
        jobs: list[tuple[str, Callable[[], object], int]] = [
            ("settle_replies", self.services.delivery.settle, sweep_every),
            ("sweep", self.metrics.timed(self.services.sweeper.run), sweep_every),
            ("assign_waiting", self.services.assigner.waiting, sweep_every),
            ("spikes", self.services.spikes.check, 60),
            ("x_budget", self.services.x_budget.flush, X_BUDGET_FLUSH_SECONDS),
            ("group_followups", self.services.group_answers.remind, sweep_every),
        ]
        if poll:  # the polls also run right at the start
            jobs += [
                ("poll_x", self.poll_x, self.settings.poll_interval_seconds),
                ("poll_dms", self.poll_dms, self.settings.dm_poll_interval_seconds),
            ]
        for job_id, job, seconds in jobs:
            at_once = {"next_run_time": self.services.clock()} if job_id.startswith("poll") else {}
            scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                id=job_id,
                max_instances=1,
                coalesce=True,
                **at_once,
            )
        scheduler.add_job(
            self.services.events.prune, "interval", hours=1, id="prune_events", coalesce=True
        )
        scheduler.start()
        self._scheduler = scheduler

    def poll_x(self) -> None:
        """Poll mentions and searches, if this replica is the one that polls."""
        if self.leadership.acquire():
            self.services.ingest.poll()

    def poll_dms(self) -> None:
        """Poll direct messages, if this replica is the one that polls."""
        if self.leadership.acquire():
            self.services.ingest.poll_dms()

    def stop_background(self) -> None:
        """Stop polling and posting; rows not yet sent stay queued for the next start."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
            self.leadership.release()
        with contextlib.suppress(SQLAlchemyError):  # the counts of the last seconds
            self.services.x_budget.flush()
        self._stop.set()
        self.poster.wake()
        self.services.x_outbox.wake()
        for thread in self._threads:
            thread.join(timeout=15)
        self._threads.clear()

    # -- HTTP ----------------------------------------------------------------------------

    def http_server(self, *, host: str = "0.0.0.0", port: int | None = None) -> HttpServer:  # noqa: S104
        """waitress serving Slack's requests and /healthz (handlers/http.py); port 0: any."""
        secret = self.settings.slack_signing_secret
        endpoint = slack_endpoint(
            self.app,
            health=self.health,
            # In Socket Mode events come over the WebSocket; this server only answers /healthz.
            signing_secret=None
            if self.settings.socket_mode or not secret
            else secret.get_secret_value(),
            metrics=self.metrics.exposition,
        )
        port = self.settings.port if port is None else port
        return HttpServer(endpoint, host=host, port=port, threads=LISTENER_THREADS)

    # -- running -------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until SIGTERM or Ctrl-C, in Socket Mode or HTTP mode as configured."""
        keep_start_up_out_of_collections()
        self.start_background()
        try:
            if self.settings.socket_mode:
                self._serve_socket_mode()
            else:
                server = self.http_server()
                log.info("HTTP mode: listening on port %s (POST /slack/events)", server.port)
                _raise_on_sigterm()
                server.run()
        finally:
            log.info("stopping: background work finishes, unsent posts stay queued")
            self.stop_background()
        return 0

    def _serve_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        health_server = None
        if self.settings.health_port:
            health_server = self.http_server(port=self.settings.health_port)
            health_server.start_in_thread()
        handler = SocketModeHandler(self.app, self.settings.slack_app_token.get_secret_value())
        handler.connect()  # type: ignore[no-untyped-call]
        log.info("Socket Mode: connected to Slack")
        stopped = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopped.set())
        stopped.wait()
        handler.close()  # type: ignore[no-untyped-call]
        if health_server is not None:
            health_server.stop()


def keep_start_up_out_of_collections() -> None:
    """Leave what start-up made out of the garbage collector's full collections.

    Modules, library tables (phone numbers, dates, SciPy), the bot's wiring: about 300,000
    objects that live as long as the process. A full collection walks every object it
    tracks, and walking these cost 0.15 s each time, once or twice in every burst of
    2,000 tweets (`bench.ingest`). What start-up made is collected first; afterwards
    the collector skips it (`gc.freeze`).
    """
    gc.collect()
    gc.freeze()


def _raise_on_sigterm() -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    post_interval: float | None = None,
    x_timeout: float = 10.0,
) -> Bot:
    """Build the whole bot from settings; nothing runs until `serve` or `start_background`."""
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except SQLAlchemyError as exc:
        raise StartupError(f"DATABASE_URL cannot be used: {type(exc).__name__}: {exc}") from None
    # A registry per built bot: several bots in one process (tests) keep their own figures.
    metrics = Metrics(engine, clock=clock)
    token = settings.slack_bot_token.get_secret_value()
    slack_client = CountingWebClient(
        token=token, base_url=settings.slack_api_url, timeout=10, listener=metrics.slack_call
    )
    team_id, bot_user_id = slack_identity(slack_client)
    x = x_client(settings, timeout=x_timeout, clock=clock)
    x.listen(metrics.x_call)
    brand = x_identity(x)
    # The poster's client never retries on its own: a blind retry of a post whose answer
    # was lost could post it twice. The queue decides, after checking Slack.
    poster = SlackPoster(
        engine=engine,
        client=CountingWebClient(
            token=token,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[],
            listener=metrics.slack_call,
        ),
        clock=clock,
        min_interval=settings.slack_post_interval_seconds
        if post_interval is None
        else post_interval,
    )
    # The Home tab renders from the services built below; the closure reads them late.
    homes = HomePublisher(
        client=slack_client, render=lambda user, **place: render_home(services, user, **place)
    )
    services = Services(
        settings,
        engine=engine,
        x=XSide(x, brand),
        slack=SlackSide(team_id, bot_user_id, SlackDirectory(slack_client), homes, poster.wake),
        presenter=BlockKitPresenter(),
        clock=clock,
    )
    services.delivery.sent_listeners.append(metrics.replied)
    poster.refused_listeners.append(services.refused_channels.refused)
    services.ingest.listeners.append(metrics.polled)
    metrics.follow_polls(lambda: services.ingest.last_success)
    try:
        services.roster.ensure_admins()
    except Refused as exc:
        raise StartupError(f"ADMIN_USER_IDS: {exc.user_message}") from None
    signing_secret = settings.slack_signing_secret
    app = App(
        # Bolt's default of five listener threads lets a handful of slow handlers hold back
        # the acknowledgement of every command behind them.
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        ),
        client=slack_client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
    )
    handlers.register(app, services)
    health = Health(
        engine=engine,
        mode="socket" if settings.socket_mode else "http",
        last_poll=lambda: services.ingest.last_success,
        last_post=lambda: poster.last_success,
        x_queue=lambda: sum(services.x_outbox.depth().values()),
    )
    log.info(
        "ready: brand account @%s, support channel %s", brand.username, settings.support_channel_id
    )
    lease = timedelta(seconds=max(30, 3 * settings.poll_interval_seconds))
    leadership = leadership_for(engine, lease=lease, clock=clock)
    return Bot(settings, engine, services, app, poster, homes, health, leadership, metrics)


def run_sandbox(*, host: str, port: int, keep: bool, directory: Path) -> int:
    """`python app.py sandbox`: the real bot against stand-ins of Slack and X, and its page."""
    import yaml

    from sandbox.site import SandboxSite
    from sandbox.workspace import PEOPLE, Workspace

    workspace = Workspace(directory, keep=keep)
    settings = workspace.settings()
    with workspace.log_file.open("a", encoding="utf-8") as log_stream:
        # The bot logs as in production, into a file: the terminal is for the address.
        logs.configure(
            level=settings.log_level,
            fmt="text",
            secrets=settings.secrets(),
            mask=personal_data_detector(settings).mask,
            stream=log_stream,
        )
        bot: Bot | None = None
        servers: list[HttpServer] = []
        stop = threading.Event()
        try:
            bot = build(settings)
            if workspace.fresh:
                for person in PEOPLE:
                    if person.role is not None and person.user_id not in settings.admin_user_ids:
                        bot.services.roster.add(
                            user_id=person.user_id, role=person.role, initials=person.initials
                        )
            bot.start_background()
            bot_server = bot.http_server(host="127.0.0.1", port=0)
            bot_server.start_in_thread()
            servers.append(bot_server)
            members = bot.services.roster.members
            site = SandboxSite(
                workspace,
                bot_url=f"http://127.0.0.1:{bot_server.port}",
                roles=lambda: {m.user_id: str(m.role) for m in members()},
                manifest=yaml.safe_load(Path(__file__).with_name("manifest.yml").read_text()),
            )
            try:
                page = HttpServer(site, host=host, port=port, threads=LISTENER_THREADS)
            except OSError as exc:
                raise StartupError(
                    f"cannot listen on {host}:{port} ({exc.strerror}); try --port"
                ) from None
            print(
                f"Servicekanal sandbox: open http://{host}:{page.port}/ in a browser "
                f"(Ctrl-C stops it; the bot's log is {workspace.log_file})",
                flush=True,
            )
            saver = threading.Thread(
                target=_save_every, args=(workspace, stop), name="sandbox-save", daemon=True
            )
            saver.start()
            _raise_on_sigterm()
            page.run()
        except StartupError as exc:
            print(f"Sandbox start-up failed: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            for server in servers:
                server.stop()
            if bot is not None:
                bot.stop_background()
                bot.engine.dispose()
            workspace.close()
    return 0


def _save_every(workspace: Any, stop: threading.Event) -> None:
    while not stop.wait(SANDBOX_SAVE_SECONDS):
        workspace.save()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load settings, and run the chosen command."""
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description=DESCRIPTION,
        epilog=MODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "migrate", "check", "sandbox", "groups"],
    )
    parser.add_argument("file", nargs="?", help="groups: the JSON-lines file ('-': stdin)")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument(
        "--online", action="store_true", help="check: also call auth.test and GET /2/users/me"
    )
    sandbox = parser.add_argument_group("sandbox")
    sandbox.add_argument(
        "--port", type=int, default=SANDBOX_PORT, help="the page's port (default 8080; 0: any)"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="the page's address")
    sandbox.add_argument(
        "--keep", action="store_true", help="continue the last sandbox instead of a fresh one"
    )
    sandbox.add_argument(
        "--dir", type=Path, default=Path(".sandbox"), help="its files (default .sandbox/)"
    )
    args = parser.parse_args(argv)
    if (args.file is not None) != (args.command == "groups"):
        parser.error("a FILE goes with the groups command, and only with it")

    if args.command == "groups":
        # Grouping loads scikit-learn and SciPy (about 95 MiB); only this command needs them yet.
        from bot import tuning

        return tuning.groups_command(args.file, env_file=args.env_file)

    if args.command == "sandbox":
        return run_sandbox(host=args.host, port=args.port, keep=args.keep, directory=args.dir)

    if args.command == "migrate":
        database = DatabaseSettings(_env_file=args.env_file)
        logging.basicConfig(level=logging.INFO)
        try:
            migrate(make_engine(database.database_url))
        except SQLAlchemyError as exc:
            print(f"DATABASE_URL cannot be used: {type(exc).__name__}", file=sys.stderr)
            return 1
        print("database is up to date")
        return 0
    try:
        settings = Settings(_env_file=args.env_file)
    except ValidationError as exc:
        print(describe_settings_error(exc), file=sys.stderr)
        return 2
    if args.command == "check":
        print("settings are valid")
        if args.online:
            return 0 if check_online(settings) else 1
        return 0
    logs.configure(
        level=settings.log_level,
        fmt=settings.log_format,
        secrets=settings.secrets(),
        mask=personal_data_detector(settings).mask,
    )
    try:
        bot = build(settings)
    except StartupError as exc:
        # Once: as a log line for machines reading JSON, else as a plain line for people.
        if settings.log_format == "json":
            log.error("start-up failed: %s", exc)
        else:
            print(f"Start-up failed: {exc}", file=sys.stderr)
        return 1
    return bot.serve()


if __name__ == "__main__":
    sys.exit(main())
