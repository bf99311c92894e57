"""Limits and least privilege (issue 23, items 5 and 6): who can reach what, and how much of it.

The action server has no authentication, so it listens on loopback unless
ACTION_SERVER_HOST says otherwise; checked by knocking on this machine's own
non-loopback address while it runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import yaml

from conftest import ROOT, accepts, free_port, non_loopback_address
from live_servers import SERVER_ENV, action_server_env, stop_servers, wait_for
from production import ENDPOINTS, NGINX, Settings, nginx_config


@pytest.fixture
def action_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """An action server started as the launchers start it, with the environment the test gives; yields its port."""
    env: Dict[str, str] = {**os.environ, **SERVER_ENV, **request.param}
    env.update(action_server_env(env))
    port = free_port()
    with open(tmp_path / "actions.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "actions", "--actions", "actions", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        yield port
    finally:
        stop_servers([process])


@pytest.mark.parametrize("action_server", [{}], indirect=True)
def test_the_action_server_answers_only_on_loopback(action_server: int) -> None:
    assert accepts("127.0.0.1", action_server)
    assert not accepts(non_loopback_address(), action_server), "the action server is reachable from the network"


@pytest.mark.parametrize("action_server", [{"ACTION_SERVER_HOST": "0.0.0.0"}], indirect=True)
def test_action_server_host_opens_it_where_asked(action_server: int) -> None:
    # A container whose Rasa server is in another container needs this (deploy/docker-compose.yml).
    assert accepts(non_loopback_address(), action_server)


@pytest.mark.parametrize("password", ["", "s3cret-from-the-environment"])
def test_the_redis_password_reaches_the_lock_store(password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """endpoints.production.yml read as a Rasa server reads it, with the environment the profile gives it."""
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in Settings.from_env({"REDIS_PASSWORD": password}).server_env().items():
        monkeypatch.setenv(name, value)
    store = LockStore.create(read_endpoint_config(str(ENDPOINTS), "lock_store"))
    assert store.red.connection_pool.connection_kwargs["password"] == password
    if not password:
        assert store.red.ping(), "no password: this machine's Redis, which has none"


def test_a_wrong_redis_password_stops_the_profile_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "production.py"), "--prepare"],
        cwd=ROOT,
        env=dict(os.environ, REDIS_PASSWORD="not-the-password"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: Redis at 127.0.0.1:6379 refused the password in REDIS_PASSWORD" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def image_references(node: Any) -> Iterator[str]:
    """Every image a compose file or Helm values name: `image:` strings, and repository + tag pairs."""
    if isinstance(node, dict):
        if isinstance(node.get("image"), str):
            yield node["image"]
        if "tag" in node:
            yield f"{node.get('repository') or node.get('name')}:{node['tag']}"
        for value in node.values():
            yield from image_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from image_references(value)


def deploy_yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def test_every_image_is_pinned() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    compose, helm = deploy_yaml("docker-compose.yml"), deploy_yaml("helm/values.yaml")
    images = [*bases, *image_references(compose), *image_references(helm)]
    assert len(images) >= 8, images
    for image in images:
        # Our own image's tag is required from whoever builds it (a ${VARIABLE:?...} without default).
        pinned = re.fullmatch(r"([^:$]+):(\$\{\w+:\?.*\}|[\w.-]+)", image)
        assert pinned, f"{image}: no tag"
        tag = pinned.group(2)
        assert "latest" not in tag and (re.search(r"\d", tag) or tag.startswith("${")), f"{image}: not pinned"


def test_the_image_leaves_out_secrets_conversations_and_results() -> None:
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    for private in (".env", "var", "results", ".venv", "**/*.db", "models/*"):
        assert private in ignored, f"{private} would be copied into the image"
    # What answering needs comes back in after models/*, and the model itself is in it.
    needed = {"!models/jdm.tar.gz", "!models/triage", "!models/spacy", "!models/minilm"}
    assert needed <= set(ignored)
    assert set(re.findall(r"models/[\w./-]+", (ROOT / "config.yml").read_text())) and all(
        any(path.startswith(entry[1:]) for entry in needed)
        for path in re.findall(r"models/[\w./-]+", (ROOT / "config.yml").read_text())
    ), "a model config.yml needs is left out of the image"


def literal_passwords(node: Any, path: str = "") -> Iterator[str]:
    """Keys naming a password whose value is written in the file (not a ${VARIABLE} or a secret)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            named = "password" in str(key).lower() and not str(key).endswith("Key")  # not a secret's key name
            if named and isinstance(value, str) and value and not value.startswith("${"):
                yield f"{where}={value}"
            yield from literal_passwords(value, where)
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from literal_passwords(value, f"{path}[{number}]")


def test_helm_has_no_default_password_and_takes_them_from_secrets() -> None:
    values = deploy_yaml("helm/values.yaml")
    assert not list(literal_passwords(values))
    # Blank, so the chart's public defaults ("password", "redis-password") are overridden, not inherited.
    assert values["global"]["postgresql"]["postgresqlPassword"] == "" and values["global"]["redis"]["password"] == ""
    assert values["global"]["postgresql"]["existingSecret"] and values["redis"]["auth"]["existingSecret"]
    assert values["redis"]["existingSecret"] == values["redis"]["auth"]["existingSecret"]
    assert values["applicationSettings"]["endpoints"]["lockStore"]["password"] == "${REDIS_PASSWORD}"
    compose = deploy_yaml("docker-compose.yml")
    assert not list(literal_passwords(compose))
    assert "--requirepass" in compose["services"]["redis"]["command"]
    assert "REDIS_PASSWORD" in compose["services"]["rasa"]["environment"]


def test_helms_nginx_keeps_the_profiles_limits(tmp_path: Path) -> None:
    configuration = deploy_yaml("helm/values.yaml")["nginx"]["customConfiguration"]
    helm = configuration["rasa.nginx.conf"]
    rendered = nginx_config(Settings.from_env({}), tmp_path)
    for directive in ("client_max_body_size", "limit_req ", "limit_req_zone", "limit_conn_zone", "limit_conn "):
        line = next(x.strip() for x in rendered.splitlines() if x.strip().startswith(directive))
        assert line in helm, f"Helm's nginx differs from the profile's: {line}"
    extra_env = {entry["name"]: entry["value"] for entry in deploy_yaml("helm/values.yaml")["extraEnv"]}
    assert f"client_max_body_size {extra_env['JDM_MAX_BODY_BYTES']};" in helm, "nginx and Rasa disagree on body size"
    # nginx itself accepts the pair, as the sidecar mounts them.
    (tmp_path / "rasa.nginx.conf").write_text(helm)
    main = configuration["nginx.conf"].replace("/etc/nginx/conf.d/*.nginx.conf", str(tmp_path / "rasa.nginx.conf"))
    (tmp_path / "nginx.conf").write_text(main)
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
