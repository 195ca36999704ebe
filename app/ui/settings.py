"""Web app settings: bind address, authentication, upload cap, folder-ingest roots, language.

Read from the environment (never at import time), overridable by ``serve --host/--port``.
Safe defaults: loopback only, no folder outside the allowed roots (``/archivo`` unless
``BUSCA_INGEST_ROOT`` says otherwise), 200 MB uploads.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from app.config import ENVIRONMENT, Settings
from app.ui.i18n import LANGUAGES
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

#: The web app's environment variables (defaults and help live in app.config.ENVIRONMENT).
UI_VARIABLES = ("BUSCA_HOST", "BUSCA_PORT", "BUSCA_AUTH", "BUSCA_AUTH_FILE", "BUSCA_MAX_UPLOAD_MB",
                "BUSCA_INGEST_ROOT", "BUSCA_LANG")


@dataclass(frozen=True)
class UiSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[tuple[str, str], ...] = ()
    auth_file: Path | None = None
    max_upload_mb: int = 200
    ingest_roots: tuple[Path, ...] = ()
    lang: str = "es"

    @classmethod
    def from_env(cls, settings: Settings, env: dict[str, str] | None = None) -> UiSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, ENVIRONMENT[name][0]).strip()

        auth, auth_file = parse_auth(get("BUSCA_AUTH")), None
        if get("BUSCA_AUTH_FILE"):
            auth_file = Path(get("BUSCA_AUTH_FILE")).expanduser().resolve()
            auth = read_auth_file(auth_file)
        roots = [Path(p).expanduser() for p in get("BUSCA_INGEST_ROOT").split(os.pathsep) if p.strip()]
        return cls(
            host=get("BUSCA_HOST") or "127.0.0.1",
            port=_int("BUSCA_PORT", get("BUSCA_PORT"), 1, 65535),
            auth=auth,
            auth_file=auth_file,
            max_upload_mb=_int("BUSCA_MAX_UPLOAD_MB", get("BUSCA_MAX_UPLOAD_MB"), 1, 1_000_000),
            ingest_roots=tuple(roots) or (Path(ENVIRONMENT["BUSCA_INGEST_ROOT"][0]),),
            lang=_lang(get("BUSCA_LANG")),
        )

    def override(self, host: str | None = None, port: int | None = None) -> UiSettings:
        changes = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        if "port" in changes:
            changes["port"] = _int("--port", str(changes["port"]), 1, 65535)
        return replace(self, **changes)

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _int(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise ConfigError(f"{name} must be an integer, got {text!r}") from err
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _lang(text: str) -> str:
    code = text.lower().split("_")[0].split("-")[0]
    if code not in LANGUAGES:
        raise ConfigError(f"BUSCA_LANG must be one of {', '.join(LANGUAGES)}, got {text!r}")
    return code


def parse_auth(text: str) -> tuple[tuple[str, str], ...]:
    """``"user:password[,user2:password2]"`` -> credentials; empty -> no login."""
    pairs = []
    for item in (part.strip() for part in text.replace("\n", ",").split(",")):
        if not item or item.startswith("#"):
            continue
        user, sep, password = item.partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError("web app credentials must be user:password (BUSCA_AUTH or BUSCA_AUTH_FILE)")
        pairs.append((user.strip(), password))
    return tuple(pairs)


def read_auth_file(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read BUSCA_AUTH_FILE {path}: {err.strerror or err}") from err
    pairs = parse_auth("\n".join(line for line in text.splitlines() if line.strip()))
    if not pairs:
        raise ConfigError(f"BUSCA_AUTH_FILE {path} holds no user:password line")
    return pairs


def served_paths(data_dir: Path, also_blocked: tuple[Path, ...] = ()) -> tuple[list[str], list[str]]:
    """What the web server may serve (thumbnails and placed media) and what it must never
    serve (the vector stores, the catalog, the analysis jobs and URL downloads, configuration
    such as the login file), as ``(allowed, blocked)``; blocked paths win over allowed ones."""
    root = data_dir.expanduser().resolve()
    allowed = [root / "videos", root / "media"]
    blocked = [root / "edge", root / "qdrant", root / "catalog", root / "config", root / "jobs", root / "downloads",
               *also_blocked]
    return [str(p) for p in allowed], [str(p) for p in blocked]
