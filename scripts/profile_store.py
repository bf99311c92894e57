"""Which tracker store the running profile uses, read from its endpoints file.

Shared by `make purge` (scripts/purge.py) and `make report` (scripts/report.py):
both work on the store of the profile in use, SQLite (var/tracker.db,
endpoints.yml) by default, PostgreSQL with JDM_PROFILE=production
(endpoints.production.yml, DB_* settings with scripts/production.py's defaults).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from production import ENDPOINTS as PRODUCTION_ENDPOINTS  # noqa: E402
from production import ROOT, ProfileError, Settings  # noqa: E402

sys.path.insert(1, str(ROOT))  # the tracker store class the endpoints name (components/)

# The settings of Rasa's SQLTrackerStore that say where the events are (besides `url`, the host).
SQL_SETTINGS = ("dialect", "port", "db", "username", "password")


class StoreError(Exception):
    """The profile's tracker store cannot be used; the message says why."""


def endpoints_path(explicit: Optional[str]) -> Path:
    """The endpoints file of the profile in use, with the production settings' defaults in the environment."""
    profile = os.environ.get("JDM_PROFILE") or "default"
    if profile not in ("default", "production"):
        raise StoreError(f"JDM_PROFILE must be default or production, not '{profile}'.")
    os.environ.setdefault("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    if explicit:
        path = Path(explicit)
    elif profile == "production":
        path = PRODUCTION_ENDPOINTS
    else:
        path = ROOT / "endpoints.yml"
    if profile == "production":
        try:
            for name, value in Settings.from_env(os.environ).server_env().items():
                os.environ.setdefault(name, value)
        except ProfileError as error:
            raise StoreError(str(error)) from None
    return path


def is_sql_store(kind: str) -> bool:
    """Rasa's `type: SQL`, or a tracker store class (a module path) built on SQLTrackerStore."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.utils.common import class_from_module_path

    if kind.lower() == "sql":
        return True
    try:
        found = class_from_module_path(kind)
    except (ImportError, AttributeError, ValueError):
        return False
    return isinstance(found, type) and issubclass(found, SQLTrackerStore)


def sql_store_settings(endpoints: Path, purpose: str) -> Dict[str, Any]:
    """SQLTrackerStore's arguments (host, dialect, port, db, username, password) from `endpoints`.

    `purpose` names what needs them, for the error: "purging", "the report".
    """
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or not is_sql_store(str(config.type or "")):
        raise StoreError(f"{endpoints}: {purpose} needs an SQL tracker store (type: SQL, or a subclass of it).")
    settings = {k: v for k, v in config.kwargs.items() if k in SQL_SETTINGS}
    settings["host"] = config.url
    return settings


def sqlite_file_missing(settings: Dict[str, Any]) -> bool:
    """An SQLite store whose file does not exist yet: nothing was stored (and opening it would create it)."""
    return str(settings.get("dialect", "sqlite")) == "sqlite" and not Path(str(settings.get("db"))).exists()
