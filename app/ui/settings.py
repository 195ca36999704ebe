"""Web app settings: bind address, authentication, upload caps, folder-ingest roots, language.

Read from the environment (never at import time), overridable by ``serve --host/--port``.
Safe defaults: loopback only, no folder outside the allowed roots (``/archivo`` unless
``BUSCA_INGEST_ROOT`` says otherwise), 200 MB per file and 1,000 MB and 20 files per request.
:func:`exposure_problem` says why a configuration must not start: listening beyond this machine
without a login (unless ``BUSCA_ALLOW_ANONYMOUS=1``), or a weak password (:func:`weak_password`).
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
UI_VARIABLES = ("BUSCA_HOST", "BUSCA_PORT", "BUSCA_AUTH", "BUSCA_AUTH_FILE", "BUSCA_ALLOW_ANONYMOUS",
                "BUSCA_MAX_UPLOAD_MB", "BUSCA_MAX_REQUEST_MB", "BUSCA_MAX_UPLOAD_FILES", "BUSCA_INGEST_ROOT", "BUSCA_LANG")
#: Shortest password accepted for the web login.
MIN_PASSWORD = 12
#: Passwords (and fragments) that a guesser tries first.
COMMON_PASSWORDS = ("password", "contraseña", "contrasena", "123456", "qwerty", "letmein", "admin", "welcome",
                    "bienvenido", "secreto", "secret", "buscaescenas", "changeme", "iloveyou", "abc123")


@dataclass(frozen=True)
class UiSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[tuple[str, str], ...] = ()
    auth_file: Path | None = None
    max_upload_mb: int = 200
    ingest_roots: tuple[Path, ...] = ()
    lang: str = "es"
    #: ``BUSCA_ALLOW_ANONYMOUS=1``: the operator accepts a non-loopback address without a login.
    allow_anonymous: bool = False
    #: Caps of one upload request: all its files together (MB), and how many files.
    max_request_mb: int = 1000
    max_files: int = 20

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
            allow_anonymous=get("BUSCA_ALLOW_ANONYMOUS").lower() in ("1", "true", "yes"),
            max_request_mb=_int("BUSCA_MAX_REQUEST_MB", get("BUSCA_MAX_REQUEST_MB"), 1, 1_000_000),
            max_files=_int("BUSCA_MAX_UPLOAD_FILES", get("BUSCA_MAX_UPLOAD_FILES"), 1, 10_000),
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


def weak_password(user: str, password: str) -> str | None:
    """Why a login password is too weak to expose the app with, or None."""
    lowered = password.lower()
    if len(password) < MIN_PASSWORD:
        return f"it has {len(password)} characters; use at least {MIN_PASSWORD}"
    if len(set(password)) < 6:
        return "it repeats too few different characters"
    if user.lower() in lowered:
        return "it contains the user name"
    common = next((word for word in COMMON_PASSWORDS if word in lowered), None)
    if common:
        return f"it contains the common password {common!r}"
    return None


def exposure_problem(ui: UiSettings) -> str | None:
    """Why the web app must not start with these settings, or None. Checked by ``serve``."""
    for user, password in ui.auth:
        reason = weak_password(user, password)
        if reason:
            source = "BUSCA_AUTH_FILE" if ui.auth_file else "BUSCA_AUTH"
            return f"the web login password of user {user!r} ({source}) is too weak: {reason}"
    if not ui.is_loopback and not ui.auth and not ui.allow_anonymous:
        return (f"the web app would listen on {ui.host} without a login: set BUSCA_AUTH=user:password "
                "(or BUSCA_AUTH_FILE), or, to open it to anyone who can reach it, BUSCA_ALLOW_ANONYMOUS=1")
    return None


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
               root / "uploads", *also_blocked]
    return [str(p) for p in allowed], [str(p) for p in blocked]
