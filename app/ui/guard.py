"""The web server's own guards, in front of Gradio's routes (an ASGI middleware, :class:`ServeGuard`).

- **Files**: under the data directory, the file route serves only what the pages show: shot
  thumbnails (``videos/<id>/<vector>/thumbs/shot_NNNN.jpg``), the sampled frames an analysis
  shows (``videos/<id>/analysis/frames/shot_NNNN_K.jpg``) and placed media (``media/<id>.<ext>``). Everything else there (``info.json`` with the original path,
  ``embeddings.npy``, segmentation, the store, the catalog, jobs) is refused, whatever
  Gradio's allowed paths say.
- **Uploads**: a request must declare its length (``Content-Length``), stay under the total
  cap (``BUSCA_MAX_REQUEST_MB``) and carry at most ``BUSCA_MAX_UPLOAD_FILES`` files (counted in
  Gradio's answer; the files of a refused request are deleted at once); it is refused when the
  disk of the upload folder or of the data directory would keep less than the free-space margin.
- **Logins**: failed logins are limited per client address and in total (:class:`LoginLimiter`);
  an address over the limit gets HTTP 429 until its oldest failure leaves the window.

Answers carry no server path; the server log gets one line with the details.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.ui.i18n import t
from pipeline.core import DiskMargin, space_shortfall
from pipeline.errors import human_size

log = logging.getLogger(__name__)

MB = 1024 * 1024
API = "/gradio_api"
#: The files under the data directory that the pages need, as paths relative to it.
SERVED = re.compile(r"videos/[0-9a-f]{20}/(?:[a-z0-9][a-z0-9-]{0,99}/thumbs/shot_\d{4,}|analysis/frames/shot_\d{4,}_\d+)\.jpg"
                    r"|media/[0-9a-f]{20}\.[A-Za-z0-9]{1,5}")


class LoginLimiter:
    """At most ``per_client`` failed logins per client address, and ``overall`` in total, within
    ``window_s`` seconds; beyond that, :meth:`wait` says how long a client must wait."""

    def __init__(self, per_client: int = 5, overall: int = 50, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.per_client, self.overall, self.window_s, self.clock = per_client, overall, window_s, clock
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _expire(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_s:
            times.popleft()

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        now = self.clock()
        self._expire(self._all, now)
        mine = self._clients.get(client, deque())
        self._expire(mine, now)
        waits = [0.0]
        if len(mine) >= self.per_client:
            waits.append(mine[0] + self.window_s - now)
        if len(self._all) >= self.overall:
            waits.append(self._all[0] + self.window_s - now)
        return max(waits)

    def failed(self, client: str) -> None:
        now = self.clock()
        self._clients.setdefault(client, deque()).append(now)
        self._all.append(now)
        if len(self._clients) > 10_000:  # many addresses (IPv6): forget those whose failures expired
            for key in list(self._clients):
                self._expire(self._clients[key], now)
                if not self._clients[key]:
                    del self._clients[key]

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)


@dataclass(frozen=True)
class GuardOptions:
    data_dir: Path
    upload_dir: Path
    max_request_bytes: int = 1000 * MB
    max_files: int = 20
    margin: DiskMargin = field(default_factory=DiskMargin)
    lang: str = "es"


async def _answer(send, status: int, text: str, headers: tuple = ()) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def served_file_allowed(target: str, data_dir: Path) -> bool:
    """False for a file route target that lies (literally or after links) in the data directory
    but is not a thumbnail or placed media; True otherwise (Gradio's own checks still apply)."""
    root = data_dir.expanduser().resolve()
    literal = Path(os.path.abspath(target))
    try:
        real = literal.resolve()
    except (OSError, RuntimeError):
        return False
    inside = [p for p in (literal, real) if p == root or p.is_relative_to(root)]
    if not inside:
        return True
    return real.is_relative_to(root) and SERVED.fullmatch(real.relative_to(root).as_posix()) is not None


class ServeGuard:
    """ASGI middleware; Gradio gets it through ``launch(app_kwargs={"middleware": [...]})``."""

    def __init__(self, app, options: GuardOptions, limiter: LoginLimiter | None = None):
        self.app, self.options = app, options
        self.limiter = limiter or LoginLimiter()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if path.startswith(f"{API}/file="):
            if not served_file_allowed(path[len(f"{API}/file="):], self.options.data_dir):
                return await _answer(send, 403, "File not allowed.")
        elif method == "POST" and path.rstrip("/") == f"{API}/upload":
            return await self._upload(scope, receive, send)
        elif method == "POST" and path.rstrip("/") == "/login":
            return await self._login(scope, receive, send)
        return await self.app(scope, receive, send)

    # ------------------------------------------------------------------ uploads

    async def _upload(self, scope, receive, send):
        opts, lang = self.options, self.options.lang
        headers = dict(scope.get("headers") or [])
        try:
            length = int(headers.get(b"content-length", b""))
        except ValueError:
            return await _answer(send, 411, t(lang, "upload_no_length"))
        if length > opts.max_request_bytes:
            log.warning("upload refused: %s in one request, over %s", human_size(length), human_size(opts.max_request_bytes))
            return await _answer(send, 413, t(lang, "upload_too_large", mb=round(length / MB),
                                              max=round(opts.max_request_bytes / MB)))
        for folder in (opts.upload_dir, opts.data_dir):
            short = space_shortfall(folder, opts.margin, length)
            if short is not None:
                log.warning("upload refused: %s has %s free, %s needed (upload + margin)", folder,
                            human_size(short[0]), human_size(short[1]))
                return await _answer(send, 507, t(lang, "upload_no_space", mb=max(1, round(length / MB))))
        held: list[dict] = []

        async def hold(message):
            held.append(message)

        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        if start is not None and start["status"] == 200:
            try:
                files = json.loads(body)
            except ValueError:
                files = []
            if isinstance(files, list) and len(files) > opts.max_files:
                _delete_uploads(files, opts.upload_dir)
                log.warning("upload refused: %d files in one request, over %d (deleted)", len(files), opts.max_files)
                return await _answer(send, 413, t(lang, "upload_too_many", n=len(files), max=opts.max_files))
        for message in held:
            await send(message)

    # ------------------------------------------------------------------ logins

    async def _login(self, scope, receive, send):
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.limiter.wait(client)
        if wait > 0:
            log.debug("login refused for %s: too many failed attempts (wait %.0f s)", client, wait)
            seconds = max(1, round(wait))
            return await _answer(send, 429, t(self.options.lang, "login_throttled", s=seconds),
                                 ((b"retry-after", str(seconds).encode()),))
        status: list[int] = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 400:
            self.limiter.failed(client)
            wait = self.limiter.wait(client)
            if wait > 0:  # one line when a client crosses the limit, not one per refused try
                log.warning("logins from %s refused for %.0f s: too many failed attempts", client, wait)
        elif status and status[0] < 400:
            self.limiter.succeeded(client)


def _delete_uploads(files: list, upload_dir: Path) -> None:
    """Delete files Gradio just stored (``<upload_dir>/<sha>/<name>``), and their folders when empty."""
    root = upload_dir.resolve()
    for name in files:
        path = Path(str(name)).resolve()
        if path.is_relative_to(root) and path != root:
            path.unlink(missing_ok=True)
            if path.parent != root and not any(path.parent.iterdir()):
                shutil.rmtree(path.parent, ignore_errors=True)
