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
