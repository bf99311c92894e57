"""The production profile: PostgreSQL + Redis, several Rasa servers behind nginx, one action server.

Chosen by environment variables only (`JDM_PROFILE=production make run`, see the
README's table): scripts/run.sh hands over to this script, which creates the
database if it is missing and the role the servers log in as (with only the
rights the tracker store needs), writes nginx's configuration from
deploy/nginx.conf.template into var/production/ (git-ignored), starts
everything, keeps their logs there (rotated, scripts/log_files.py) and stops
everything on Ctrl-C or SIGTERM. The scale-out test
(tests/test_scale_out.py) starts the same stack through `Stack`.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import ipaddress
import os
import pwd
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_files import LogFile, LogPolicy, LogSettingError  # noqa: E402
from web_server import page_headers  # noqa: E402

from live_servers import ROOT, SERVER_ENV, Servers, action_server_env, stop_servers, wait_for  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
ENDPOINTS = ROOT / "endpoints.production.yml"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
# Where the assistant's database password is kept when DB_PASSWORD is not set (git-ignored, owner only).
DB_PASSWORD_FILE = ROOT / "var" / "production" / "db-password"


class ProfileError(Exception):
    """A setting of the production profile is wrong; the message says which and why."""


def _whole(env: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 65535) -> int:
    raw = env.get(name, "") or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ProfileError(f"{name} must be a whole number, not '{raw}'.") from None
    if not low <= value <= high:
        raise ProfileError(f"{name} must be between {low} and {high}, not {value}.")
    return value


def _identifier(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.replace("_", "").isalnum():
        raise ProfileError(f"{name} must be letters, digits or '_', not '{value}'.")
    return value


def stored_password(path: Path) -> str:
    """The password kept in `path`, made (random, readable by its owner only) the first time it is needed.

    So the assistant's database role has a password nobody had to invent and
    nobody can guess, and the IT person finds it in one place (the README says
    where). Made aside and linked into place, so processes starting together all read one password.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(24) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    password = path.read_text().strip()
    if not password:
        raise ProfileError(f"{path} is empty: delete it (a new password is made) or set DB_PASSWORD.")
    return password


def _log_policy(env: Mapping[str, str]) -> LogPolicy:
    try:
        return LogPolicy.from_env(env)
    except LogSettingError as error:
        raise ProfileError(str(error)) from None


def _yes_no(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "yes", "1"):
        return True
    if raw in ("false", "no", "0"):
        return False
    raise ProfileError(f"{name} must be true or false, not '{raw}'.")


def _networks(env: Mapping[str, str], name: str) -> Tuple[str, ...]:
    """Addresses or networks (10.0.0.0/8) separated by spaces or commas; a ProfileError names a wrong one."""
    found = []
    for raw in (env.get(name) or "").replace(",", " ").split():
        try:
            found.append(str(ipaddress.ip_network(raw, strict=False)))
        except ValueError:
            raise ProfileError(f"{name} must list IP addresses or networks (10.0.0.0/8), not '{raw}'.") from None
    return tuple(found)


def check_signoff(settings: Settings) -> str:
    """The start-up line on the clinician's sign-off; a ProfileError when the clinic requires it and it is short."""
    from content_review import signable_items

    from jdm_content.signoff import CHANGED, NEVER, SIGNED, load_signoffs, tally

    counts = tally(signable_items(), load_signoffs())
    line = (
        f"Clinical sign-off: {counts[SIGNED]} texts and triage rules signed, {counts[NEVER]} never signed, "
        f"{counts[CHANGED]} changed since sign-off (make review shows which)."
    )
    if settings.require_signoff and counts[NEVER] + counts[CHANGED]:
        raise ProfileError(f"{line} JDM_REQUIRE_SIGNOFF=true: not starting until a clinician signs them.")
    return line


@dataclass(frozen=True)
class Settings:
    """Everything the profile reads from the environment, checked once, with its defaults."""

    host: str
    web_port: int
    rasa_port: int
    rasa_servers: int
    actions_port: int
    db_host: str
    db_port: int
    # The role the assistant logs in as (least privilege: see ensure_database), and its password.
    db_user: str
    db_password: str
    db_name: str
    # The administrator that creates the database, its tables and the role (never given to a Rasa server).
    db_admin_user: str
    db_admin_password: str
    redis_host: str
    redis_port: int
    redis_db: int
    # Empty: Redis without a password (this machine's); deployments require one (deploy/).
    redis_password: str
    rate: int
    burst: int
    max_body_bytes: int
    # Requests in progress at once per client address (nginx limit_conn).
    connections_per_client: int
    # The TLS terminators or load balancers in front of nginx whose X-Forwarded-For is believed (none by default).
    trusted_proxies: Tuple[str, ...]
    lock_lifetime: int
    # Refuse to start while any parent-facing text or triage rule is unsigned or changed since sign-off.
    require_signoff: bool
    # When the servers' log files are rotated and how long they are kept (JDM_LOG_MAX_MB, JDM_LOG_RETENTION_DAYS).
    logs: LogPolicy

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        db_name, db_user = _identifier(env, "DB_NAME", "jdm"), _identifier(env, "DB_USER", "jdm")
        db_admin_user = _identifier(env, "DB_ADMIN_USER", "postgres")
        if db_user == db_admin_user:
            raise ProfileError(
                f"DB_USER ({db_user}) must be a role of its own, not the administrator DB_ADMIN_USER: "
                "the assistant must not be able to drop tables or create databases."
            )
        return cls(
            host=env.get("HOST") or "127.0.0.1",
            web_port=_whole(env, "WEB_PORT", 8080),
            rasa_port=_whole(env, "RASA_PORT", 5005),
            rasa_servers=_whole(env, "RASA_SERVERS", 2, high=16),
            actions_port=_whole(env, "ACTIONS_PORT", 5055),
            db_host=env.get("DB_HOST") or "127.0.0.1",
            db_port=_whole(env, "DB_PORT", 5432),
            db_user=db_user,
            db_password=env.get("DB_PASSWORD") or stored_password(DB_PASSWORD_FILE),
            db_name=db_name,
            db_admin_user=db_admin_user,
            db_admin_password=env.get("DB_ADMIN_PASSWORD", ""),
            redis_host=env.get("REDIS_HOST") or "127.0.0.1",
            redis_port=_whole(env, "REDIS_PORT", 6379),
            redis_db=_whole(env, "REDIS_DB", 1, low=0, high=15),
            redis_password=env.get("REDIS_PASSWORD", ""),
            rate=_whole(env, "NGINX_RATE_PER_SECOND", 5, high=100000),
            burst=_whole(env, "NGINX_BURST", 20, low=0, high=100000),
            max_body_bytes=_whole(env, "JDM_MAX_BODY_BYTES", 16384, high=10_000_000),
            connections_per_client=_whole(env, "NGINX_CONNECTIONS_PER_CLIENT", 10, high=100000),
            trusted_proxies=_networks(env, "NGINX_TRUSTED_PROXIES"),
            lock_lifetime=_whole(env, "TICKET_LOCK_LIFETIME", 15, high=3600),
            require_signoff=_yes_no(env, "JDM_REQUIRE_SIGNOFF", False),
            logs=_log_policy(env),
        )

    def rasa_ports(self) -> List[int]:
        return [self.rasa_port + i for i in range(self.rasa_servers)]

    def server_env(self) -> Dict[str, str]:
        """What endpoints.production.yml reads (${...}), plus Rasa's lock lifetime."""
        return {
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "DB_HOST": self.db_host,
            "DB_PORT": str(self.db_port),
            "DB_USER": self.db_user,
            "DB_PASSWORD": self.db_password,
            "DB_NAME": self.db_name,
            "REDIS_HOST": self.redis_host,
            "REDIS_PORT": str(self.redis_port),
            "REDIS_DB": str(self.redis_db),
            "REDIS_PASSWORD": self.redis_password,
            # A server killed while holding a conversation's lock blocks that
            # conversation until the lock expires: Rasa's default is 60 s.
            "TICKET_LOCK_LIFETIME": str(self.lock_lifetime),
        }


def real_ip_lines(trusted_proxies: Tuple[str, ...]) -> str:
    """nginx's real-IP setting: behind trusted proxies each client's own address counts, not the proxy's.

    Without it every parent behind a TLS terminator would share one address's
    rate and connection limits; with it for an untrusted sender anyone could
    pick their address by writing X-Forwarded-For.
    """
    if not trusted_proxies:
        return "    # No trusted proxy (NGINX_TRUSTED_PROXIES): the connecting address is the client's."
    lines = [f"    set_real_ip_from {proxy};" for proxy in trusted_proxies]
    return "\n".join([*lines, "    real_ip_header X-Forwarded-For;", "    real_ip_recursive on;"])


def nginx_header_lines(headers: Mapping[str, str]) -> str:
    """`add_header` lines for the chat page (`always`: error pages get them too)."""
    return "\n".join(f'            add_header {name} "{value}" always;' for name, value in headers.items())


def nginx_config(settings: Settings, workdir: Path) -> str:
    """nginx's configuration for these settings: the template with its {{name}} filled.

    Not string.Template: nginx's own variables are written $name.
    """
    upstream = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in settings.rasa_ports()
    )
    values = {
        "user": pwd.getpwuid(os.geteuid()).pw_name,
        "group": grp.getgrgid(os.getegid()).gr_name,
        "workdir": str(workdir),
        "host": settings.host,
        "web_port": str(settings.web_port),
        "web_root": str(ROOT / "web"),
        "max_body_bytes": str(settings.max_body_bytes),
        "rate": str(settings.rate),
        "burst": str(settings.burst),
        "connections": str(settings.connections_per_client),
        "real_ip": real_ip_lines(settings.trusted_proxies),
        # The widget talks to nginx itself (?server= this address): no other origin.
        "security_headers": nginx_header_lines(page_headers([])),
        "upstream_servers": upstream,
    }

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ProfileError(f"{TEMPLATE.name}: unknown placeholder {match.group(0)}")
        return values[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", fill, TEMPLATE.read_text())


def ensure_database(settings: Settings, fresh: bool = False) -> None:
    """Create the database and Rasa's tables if missing, and the role the assistant logs in as; `fresh`: drop first.

    All as the administrator, so the tables belong to it: the assistant's role
    (DB_USER) may read, add and delete the rows of Rasa's tables and use their
    id sequence, and nothing else: it cannot drop or change a table, create
    one, nor create a database or a role. Safe to run again on a database that
    holds conversations: nothing is dropped (unless `fresh`, for tests), the
    rights are set to exactly these, and the role's password to the current one.
    The tables are created here, once, because two Rasa servers starting
    together would race to create them.
    """
    from psycopg2 import sql

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    from rasa.core.tracker_store import SQLTrackerStore

    with _admin_connection(settings, "postgres") as cursor:
        # One process at a time, until this connection closes: PostgreSQL fails two changes of one
        # role's or table's rights made at the same moment ("tuple concurrently updated").
        cursor.execute("SELECT pg_advisory_lock(hashtext('jdm: ensure_database'))")
        name = sql.Identifier(settings.db_name)
        if fresh:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (settings.db_name,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
        _ensure_role(cursor, settings)
        with warnings.catch_warnings():  # SQLAlchemy's notice about Rasa's URL() call: not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            admin = {"username": settings.db_admin_user, "password": settings.db_admin_password}
            store = SQLTrackerStore(**{**tracker_store_args(settings), **admin})
            tables = sorted(store.Base.metadata.tables)
            store.engine.dispose()
        with _admin_connection(settings, settings.db_name) as in_database:
            _grant_store_rights(in_database, settings, tables)


@contextlib.contextmanager
def _admin_connection(settings: Settings, dbname: str) -> Iterator[Any]:
    """A cursor of the administrator (DB_ADMIN_USER) on `dbname`, committing each statement."""
    import psycopg2

    try:
        connection = psycopg2.connect(
            host=settings.db_host,
            port=settings.db_port,
            user=settings.db_admin_user,
            password=settings.db_admin_password,
            dbname=dbname,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        raise ProfileError(
            f"PostgreSQL at {settings.db_host}:{settings.db_port} (administrator {settings.db_admin_user}) refused: "
            f"{str(error).strip()}. Start it, or set DB_HOST, DB_PORT, DB_ADMIN_USER, DB_ADMIN_PASSWORD."
        ) from None
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def _ensure_role(cursor: Any, settings: Settings) -> None:
    """The login role DB_USER, with no power of its own; a ProfileError if it exists as a superuser.

    An existing superuser is never demoted here (it may be someone's
    administrator on a shared server): the profile refuses to log in as it.
    """
    import psycopg2
    from psycopg2 import sql

    role = sql.Identifier(settings.db_user)
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (settings.db_user,))
    found = cursor.fetchone()
    if found and found[0]:
        raise ProfileError(
            f"The PostgreSQL role {settings.db_user} (DB_USER) is a superuser: the assistant must log in as a role "
            "with only the rights it needs. Choose another DB_USER; the profile creates it."
        )
    if not found:
        # Another process may create it meanwhile (PostgreSQL then reports either error).
        with contextlib.suppress(psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation):
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    cursor.execute(
        sql.SQL(
            "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %s"
        ).format(role),
        (settings.db_password,),
    )


def _grant_store_rights(cursor: Any, settings: Settings, tables: List[str]) -> None:
    """In one transaction: DB_USER gets exactly what the tracker store does to `tables`, and no other role anything.

    Rasa's store and ours select, insert and delete rows (deleting: a parent's
    Delete, `make purge`); nothing updates one. The id comes from a sequence.
    """
    from psycopg2 import sql

    role = sql.Identifier(settings.db_user)
    statements = [
        # Other roles may not even connect (nor make temporary tables); ours only connects.
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(settings.db_name)),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(settings.db_name), role),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(settings.db_name), role),
        # PostgreSQL before 15 lets every role create tables in public.
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(role),
        *(sql.SQL("GRANT SELECT, INSERT, DELETE ON {} TO {}").format(sql.Identifier(t), role) for t in tables),
        sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
    ]
    cursor.execute("BEGIN")
    for statement in statements:
        cursor.execute(statement)
    cursor.execute("COMMIT")


def tracker_store_args(settings: Settings) -> Dict[str, Any]:
    """Rasa's SQLTrackerStore arguments for the profile's PostgreSQL database (endpoints.production.yml's)."""
    return {
        "dialect": "postgresql",
        "host": settings.db_host,
        "port": settings.db_port,
        "username": settings.db_user,
        "password": settings.db_password,
        "db": settings.db_name,
    }


def check_redis(settings: Settings) -> None:
    """Fail with a clear message if Redis does not answer or refuses REDIS_PASSWORD (rather than on the first turn)."""
    import redis  # type: ignore[import-untyped]

    where = f"Redis at {settings.redis_host}:{settings.redis_port}"
    client = redis.Redis(
        host=settings.redis_host, port=settings.redis_port, password=settings.redis_password or None, socket_timeout=5
    )
    try:
        client.ping()
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as error:
        # Redis answered but refused us: a wrong, missing or unexpected password.
        raise ProfileError(f"{where} refused the password in REDIS_PASSWORD: {error}") from None
    except redis.exceptions.RedisError as error:
        raise ProfileError(f"{where} did not answer: {error}. Start it, or set REDIS_HOST and REDIS_PORT.") from None


def check_nginx() -> None:
    """nginx comes from Debian's package; say how to get it rather than fail later."""
    if not os.access(NGINX, os.X_OK):
        raise ProfileError(
            f"nginx not found at {NGINX}: install it (apt-get install nginx; make test-tools does it as root) "
            "or set NGINX to its path."
        )


class Stack(Servers):
    """The action server ("actions"), Rasa servers "rasa-1".."rasa-N" and "nginx", as Servers."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        model: Path,
        cors: Optional[List[str]] = None,
        api_args: Optional[List[str]] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        conf = workdir / "nginx.conf"
        conf.write_text(nginx_config(settings, workdir))
        python_rasa = [sys.executable, "-m", "rasa"]
        urls = {
            "actions": f"http://127.0.0.1:{settings.actions_port}",
            "nginx": f"http://127.0.0.1:{settings.web_port}",
        }
        commands: Dict[str, List[str]] = {
            "actions": [*python_rasa, "run", "actions", "--actions", "actions", "--port", str(settings.actions_port)],
            # nginx writes its access log to its output and its errors to stderr: both kept by LogFile, rotated.
            "nginx": [NGINX, "-p", str(workdir), "-c", str(conf), "-e", "stderr"],
        }
        for number, port in enumerate(settings.rasa_ports(), start=1):
            name = f"rasa-{number}"
            urls[name] = f"http://127.0.0.1:{port}"
            commands[name] = [
                *python_rasa,
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(ENDPOINTS),
                "--credentials",
                str(ROOT / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
                *(["--cors", *cors] if cors else []),
                *(api_args or []),
            ]
        inherited = env or os.environ
        server_env = {
            # No server gets the administrator's login: only ensure_database uses it, before they start.
            **{name: value for name, value in inherited.items() if not name.startswith("DB_ADMIN_")},
            **SERVER_ENV,
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **settings.server_env(),
        }
        server_env.update(action_server_env(server_env))
        super().__init__(urls, workdir, commands, server_env)
        self.settings = settings
        # Each server's output (stdout, and stderr unless it goes with it) into its rotated log file.
        self.outputs: Dict[str, Tuple[LogFile, Optional[LogFile]]] = {
            name: (LogFile(workdir / f"{name}.log", settings.logs), None) for name in commands
        }
        self.outputs["nginx"] = (
            LogFile(workdir / "nginx-access.log", settings.logs),
            LogFile(workdir / "nginx-error.log", settings.logs),
        )
        self._followers: List[threading.Thread] = []
        self._rotated_before: Dict[LogFile, int] = {}  # rotated files of earlier runs, left out of log()

    def log_path(self, name: str) -> Path:
        return self.outputs[name][0].path

    def log(self, name: str) -> str:
        """What server `name` wrote since start_all, including what was rotated aside meanwhile."""
        file = self.outputs[name][0]
        parts = [*file.rotated[self._rotated_before.get(file, 0) :], file.path]
        return "".join(part.read_text(encoding="utf-8", errors="replace") for part in parts if part.exists())

    def start(self, name: str) -> None:
        out, err = self.outputs[name]
        process = subprocess.Popen(
            self.commands[name],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if err else subprocess.STDOUT,
        )
        self.processes[name] = process
        assert process.stdout is not None
        self._followers.append(out.follow(process.stdout))
        if err:
            assert process.stderr is not None
            self._followers.append(err.follow(process.stderr))

    def wait_ready(self, name: str) -> None:
        """Rasa servers loading the model together on a busy machine need longer than one alone."""
        health = {"actions": "/health"}.get(name, "/")
        wait_for(self[name] + health, self.processes[name], timeout=300)

    def rasa_names(self) -> List[str]:
        return [name for name in self.commands if name.startswith("rasa-")]

    def start_all(self) -> None:
        for file in (file for files in self.outputs.values() for file in files if file):
            file.rotate()  # the last run's log stays, set aside, until its retention ends
            self._rotated_before[file] = len(file.rotated)
        for name in self.commands:
            self.start(name)
        for name in self.commands:
            self.wait_ready(name)

    def stop_all(self) -> None:
        stop_servers(self.processes.values())
        for follower in self._followers:
            follower.join(timeout=5)  # the servers' last lines, into their files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=os.environ.get("MODEL", "models/jdm.tar.gz"))
    parser.add_argument("--cors", nargs="*", default=[], help="origins allowed to call the Rasa servers")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only check Redis and create the database and tables, then exit (deploy/: before the Rasa servers)",
    )
    parser.add_argument("--api", nargs=argparse.REMAINDER, default=[], help="Rasa's API arguments (from run.sh)")
    args = parser.parse_args()
    try:
        settings = Settings.from_env(os.environ)
        if not args.prepare:
            print(check_signoff(settings), flush=True)
            check_nginx()
        check_redis(settings)
        ensure_database(settings)
    except ProfileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    where = "DB_PASSWORD" if os.environ.get("DB_PASSWORD") else DB_PASSWORD_FILE.relative_to(ROOT)
    print(
        f"PostgreSQL database {settings.db_name} and its tables are ready; the assistant logs in as role "
        f"{settings.db_user} (password: {where}), which may only read, add and delete their rows.",
        flush=True,
    )
    if args.prepare:
        print("Redis answers.")
        return 0
    stack = Stack(settings, ROOT / "var" / "production", ROOT / args.model, args.cors, args.api)

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start_all()
        page = f"http://localhost:{settings.web_port}/?server=http://localhost:{settings.web_port}"
        print(
            f"\n  The JDM assistant (production profile) is ready. Open the chat page: {page}\n"
            f"  (nginx http://{settings.host}:{settings.web_port} -> Rasa servers on ports "
            f"{', '.join(map(str, settings.rasa_ports()))}; action server {settings.actions_port}; "
            f"PostgreSQL {settings.db_host}:{settings.db_port}/{settings.db_name}; "
            f"Redis {settings.redis_host}:{settings.redis_port}; logs in var/production/; Ctrl-C stops all)\n",
            flush=True,
        )
        while all(process.poll() is None for process in stack.processes.values()):
            time.sleep(1)
        dead = [name for name, process in stack.processes.items() if process.poll() is not None]
        print(f"error: {', '.join(dead)} stopped unexpectedly; see var/production/*.log.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopping...", flush=True)
        return 130
    except RuntimeError as error:
        print(f"error: {error}; see var/production/*.log.", file=sys.stderr)
        return 1
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
