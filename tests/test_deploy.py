"""The shipped process definitions (deploy/) run: systemd accepts the units, and their commands,
with this checkout standing in for /opt/flightdeck, serve /healthz and register workers that
/healthz counts, reading their settings from an environment file; SIGTERM stops them cleanly."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import BASE_DIR
from tests.core.outages import PrivateRedis, free_port, stop_process, wait_until

DEPLOY = BASE_DIR / "deploy"
BIN = f"{Path(sys.executable).parent}/"


def unit(name: str) -> dict[str, dict[str, str]]:
    """A systemd unit's sections and keys (backslash continuations joined)."""
    text = (DEPLOY / name).read_text().replace("\\\n", " ")
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current[key] = " ".join(value.split())
    return sections


def local(text: str, env_file: Path) -> str:
    """A deployed path made to point at this checkout and this test's environment file."""
    return (
        text.replace("/opt/flightdeck/.venv/bin/", BIN)
        .replace("/opt/flightdeck", str(BASE_DIR))
        .replace("/etc/flightdeck/flightdeck.env", str(env_file))
    )


def test_every_unit_restarts_always_and_reads_the_environment_file():
    for name in ("flightdeck-web.service", "flightdeck-worker.service"):
        service = unit(name)["Service"]
        assert service["Restart"] == "always", name
        assert service["EnvironmentFile"] == "/etc/flightdeck/flightdeck.env", name
        assert service["KillMode"] == "mixed", name  # SIGTERM to the main process only
    assert "wsgi:app" in unit("flightdeck-web.service")["Service"]["ExecStart"]
    assert "--app wsgi worker" in unit("flightdeck-worker.service")["Service"]["ExecStart"]
    programs = configparser.RawConfigParser()
    programs.read(DEPLOY / "supervisord.conf")
    for program in ("program:flightdeck-web", "program:flightdeck-worker"):
        assert programs[program]["autorestart"] == "true"
        assert ". /etc/flightdeck/flightdeck.env;" in programs[program]["command"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path):
    env_file = tmp_path / "flightdeck.env"
    env_file.write_text((DEPLOY / "flightdeck.env.example").read_text())
    copies = []
    for name in ("flightdeck-web.service", "flightdeck-worker.service"):
        text = local((DEPLOY / name).read_text(), env_file)
        # The test runs as whoever runs it, not as the service user.
        text = text.replace("User=flightdeck", "User=root").replace(
            "Group=flightdeck", "Group=root"
        )
        (tmp_path / name).write_text(text)
        copies.append(str(tmp_path / name))
    done = subprocess.run(
        ["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def healthz(port: int, strict: bool = False) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{port}/healthz" + ("?strict=1" if strict else "")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_shipped_commands_serve_and_work(database_url, tmp_path):
    redis = PrivateRedis()
    redis.start()
    port = free_port()
    env_file = tmp_path / "flightdeck.env"
    settings = {
        "FLIGHTDECK_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "SECRET_KEY": "a-long-random-secret-key-for-the-deploy-test",
        "FLIGHTDECK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PATH": "/usr/bin:/bin",
    }
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))

    web_command = local(unit("flightdeck-web.service")["Service"]["ExecStart"], env_file)
    web_command = web_command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    web_command = web_command.replace("--workers 4", "--workers 1")  # a shared test machine
    worker_command = local(unit("flightdeck-worker.service")["Service"]["ExecStart"], env_file)
    programs = configparser.RawConfigParser()
    programs.read(DEPLOY / "supervisord.conf")
    supervised = local(programs["program:flightdeck-worker"]["command"], env_file).replace(
        "%(host_node_name)s-worker-%(process_num)s", "deploy-test-supervised"
    )

    logs = [(tmp_path / f"{n}.log").open("w") for n in ("web", "worker", "supervised")]
    processes = [
        # systemd: EnvironmentFile= becomes the environment, ExecStart= the command.
        subprocess.Popen(
            web_command.split(), cwd=BASE_DIR, env=settings, stdout=logs[0], stderr=logs[0]
        ),
        subprocess.Popen(
            worker_command.replace("%H", "deploy-test").split(),
            cwd=BASE_DIR,
            env=settings,
            stdout=logs[1],
            stderr=logs[1],
        ),
        # supervisord: the command sources the environment file itself.
        subprocess.Popen(
            ["/bin/sh", "-c", supervised.removeprefix("/bin/sh -c ").strip("'")],
            cwd=BASE_DIR,
            env={"PATH": "/usr/bin:/bin"},
            stdout=logs[2],
            stderr=logs[2],
        ),
    ]
    try:

        def both_workers_seen() -> dict | None:
            status, body = healthz(port, strict=True)
            return body if status == 200 and body["checks"]["workers"]["count"] == 2 else None

        body = wait_until(both_workers_seen, 90, "the web and both workers", step=0.5)
        assert body["status"] == "ok" and body["checks"]["database"]["ok"]
    finally:
        codes = [stop_process(p, timeout=45) for p in processes]
        for log in logs:
            log.close()
        redis.kill()
    output = "".join((tmp_path / f"{n}.log").read_text()[-2000:] for n in ("web", "worker"))
    assert codes == [0, 0, 0], output
