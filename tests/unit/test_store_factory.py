"""open_store picks the backend: Edge by default, local mode, memory, or a server by URL."""

from __future__ import annotations

import socket

import pytest

from pipeline.errors import ConfigError, StoreError
from pipeline.store import open_store


@pytest.mark.parametrize(("backend", "kind", "folder"), [("edge", "edge", "edge"), ("local", "local", "qdrant"),
                                                          ("memory", "local", None)])
def test_each_embedded_backend_opens_where_documented(tmp_path, backend, kind, folder):
    store = open_store(tmp_path, backend=backend)
    try:
        assert store.kind == kind and store.list_collections() == []
        store.ensure_collection("db", {"v": 4})
        if folder:
            assert (tmp_path / folder).is_dir()
        else:
            assert list(tmp_path.iterdir()) == []
    finally:
        store.close()


def test_an_unknown_backend_lists_the_choices(tmp_path):
    with pytest.raises(ConfigError, match="edge, local, memory"):
        open_store(tmp_path, backend="sqlite")
    with pytest.raises(ConfigError, match="URL"):
        open_store(tmp_path, backend="server")


def test_an_unreachable_server_is_named_in_the_error(tmp_path):
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(StoreError, match=f"cannot reach the Qdrant server at {url}"):
        open_store(tmp_path, url=url)
