"""The one rule for names that become folder, file and collection names: database names and
video ids. Every layer checks them with these functions, so a name the catalog accepts is a
name every store accepts, and the other way round."""

from __future__ import annotations

import re

from pipeline.errors import ConfigError

_DB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_VIDEO_ID = re.compile(r"^[0-9a-f]{20}$")


def valid_db_name(name: object) -> bool:
    """1-64 ASCII letters, digits, ``-`` or ``_``, starting with a letter or digit."""
    return isinstance(name, str) and bool(_DB_NAME.match(name))


def check_db_name(name: str) -> str:
    """Database names become directory and collection names: keep them plain."""
    if not valid_db_name(name):
        raise ConfigError(code="config.db_name", name=name)
    return name


def check_video_id(video_id: str) -> str:
    """A video id is the 20-hex-digit content hash made by :func:`pipeline.index.content_id`."""
    if not isinstance(video_id, str) or not _VIDEO_ID.match(video_id):
        raise ConfigError(code="config.video_id", video_id=video_id)
    return video_id


def vector_name_for(spec: str) -> str:
    """The Qdrant named vector of an encoder spec, e.g. ``clip-vit-l-14-openai``: stable for a
    model wherever its files are loaded from (hub, models folder); a ``local-dir:`` folder is
    named by its last path component. Names made before the multilingual default are unchanged."""
    spec = spec.strip()
    if spec.startswith("local-dir:"):
        name, tag = "local-" + spec[len("local-dir:"):].rstrip("/").rsplit("/", 1)[-1], None
    elif spec.startswith("hf-hub:"):
        name, tag = spec[len("hf-hub:"):], None
    else:
        name, _, tag = spec.partition("/")
    slug = re.sub(r"[^a-z0-9]+", "-", f"{name}-{tag or ''}".lower()).strip("-")
    return f"clip-{slug}"
