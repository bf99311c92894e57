"""Reading the YAML files under data/ that clinic editors change.

Every loader in the actions package goes through here, so a broken file
gives one kind of error that names the file and the place in it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DataFileError(ValueError):
    """A data file is missing or malformed; the message says where."""


def data_dir() -> Path:
    """The data folder; JDM_DATA_DIR points elsewhere (tests, deployments)."""
    return Path(os.environ.get("JDM_DATA_DIR", PROJECT_ROOT / "data"))


def load_yaml(relative_path: str) -> Any:
    path = data_dir() / relative_path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataFileError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DataFileError(f"{path}: not valid YAML: {error}") from error


def require(record: dict, field: str, where: str) -> Any:
    """A required field's value, or an error naming the record and field."""
    if not isinstance(record, dict):
        raise DataFileError(f"{where}: expected a mapping, got {type(record).__name__}")
    value = record.get(field)
    if value in (None, "", [], {}):
        raise DataFileError(f"{where}: missing required field '{field}'")
    return value


def string_list(value: Any, where: str) -> List[str]:
    """A data file's list of texts, or a clear error naming where it is."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise DataFileError(f"{where}: expected a list of non-empty texts")
    return value
