"""Where a video comes from: an uploaded or local file, or an http(s) URL fetched with yt-dlp.

Every URL passes the one validator, :func:`pipeline.urls.validate_url`. Inside yt-dlp every
request goes through :class:`GuardedYoutubeDL` (built lazily): each request URL is validated
before it is sent, each redirect target is validated *before* it is followed (a response hook on
yt-dlp's ``requests`` handler, the only handler left enabled), and the final URL is validated
again before the body is read. Those inner requests need not be on the allowlist (YouTube serves
media from ``googlevideo.com``) but must still reach public addresses. Every connection resolves
its host once more, checks each address, and connects to the address it checked (never to a
second lookup), which closes DNS rebinding.

Only the extractors in ``SourceOptions.extractors`` are loaded (YouTube's), the generic extractor
(any web page) only with ``allow_generic_extractor=True``; and for a URL on one of the
administrator's hosts (``UrlPolicy.extra_hosts``, ``BUSCA_ALLOWED_HOSTS``), the extractor
yt-dlp has for that site, or the generic one (a direct link to a media file, an embedded
player) when it has none.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from pipeline.core import atomic
from pipeline.errors import ConfigError, MediaError, UrlError
from pipeline.sources.urls import Resolver, UrlPolicy, host_of, looks_like_url, public_addresses, validate_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceOptions:
    """``js_runtime``: ``"auto"`` (the ``deno`` package's binary, else ``deno`` on PATH),
    ``"none"``, or ``"NAME"`` / ``"NAME:/path"`` with NAME one of deno, node, bun, quickjs."""

    cache_dir: Path
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    extractors: tuple[str, ...] = ("youtube",)
    allow_generic_extractor: bool = False
    max_height: int = 720
    max_duration_s: float = 2 * 3600.0
    max_filesize_bytes: int = 2 * 1024**3
    js_runtime: str = "auto"
    socket_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        for pattern in self.extractors:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ConfigError(f"invalid extractor pattern {pattern!r} ({err})") from err
        if self.max_height < 144 or self.max_duration_s <= 0 or self.max_filesize_bytes <= 0:
            raise ConfigError("max_height must be >= 144 and the duration and size limits positive")


@dataclass(frozen=True)
class SourceVideo:
    """A video ready to process: a local file, or a URL's download in the cache."""

    path: Path
    url: str
    extractor: str
    video_key: str  # the id inside the extractor (a hash of the URL for the generic one)
    title: str
    duration_s: float | None
    from_cache: bool


def find_js_runtime(spec: str) -> dict[str, dict]:
    """yt-dlp's ``js_runtimes`` parameter for a runtime spec (see :class:`SourceOptions`)."""
    if spec == "none":
        return {}
    if spec != "auto":
        name, _, path = spec.partition(":")
        if path and not Path(path).is_file():
            raise ConfigError(f"JavaScript runtime {name} not found at {path}")
        return {name: {"path": path} if path else {}}
    try:
        import deno  # the PyPI 'deno' package ships the binary

        return {"deno": {"path": deno.find_deno_bin()}}
    except (ImportError, FileNotFoundError):
        on_path = shutil.which("deno")
        if on_path:
            return {"deno": {"path": on_path}}
    raise ConfigError(
        "no JavaScript runtime found: yt-dlp needs one (deno) to read YouTube. "
        "Install it with 'pip install deno', or set js_runtime to 'node:/path/to/node'."
    )


class _YtDlpLogger:
    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.warning("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)  # raised as UrlError by the caller


@functools.cache
def _guarded_class():
    """The YoutubeDL subclass that validates every request (made on first use: yt-dlp is
    imported lazily)."""
    from yt_dlp import YoutubeDL
    from yt_dlp.networking.exceptions import RequestError

    class Refused(RequestError):
        """Raised inside yt-dlp's handler so the director re-raises it instead of trying another handler."""

    class GuardedYoutubeDL(YoutubeDL):
        def __init__(self, params: dict, policy: UrlPolicy, resolve: Resolver | None = None):
            super().__init__(params)
            self.policy, self.resolve = policy, resolve
            self._restrict_handlers()

        def check(self, url: str) -> None:
            validate_url(url, self.policy, allowlist=False, resolve=self.resolve)

        def _restrict_handlers(self) -> None:
            handlers = self._request_director.handlers
            if "Requests" not in handlers:
                raise ConfigError("yt-dlp's 'requests' network handler is missing: pip install 'yt-dlp[default]'")
            for key in [k for k in handlers if k != "Requests"]:
                handlers.pop(key).close()
            handler = handlers["Requests"]
            create = handler._create_instance
            pools = _pinned_pools(self.policy, self.resolve, Refused)

            def create_guarded(*args, **kwargs):
                session = create(*args, **kwargs)
                session.hooks["response"].append(self._redirect_hook)
                for adapter in session.adapters.values():
                    adapter.poolmanager.pool_classes_by_scheme = pools
                return session

            handler._create_instance = create_guarded

        def _redirect_hook(self, response, *args, **kwargs):
            if response.is_redirect:
                target = urljoin(response.url, response.headers.get("location", ""))
                try:
                    self.check(target)
                except UrlError as err:
                    response.close()
                    message = f"redirect refused: {err}"
                    raise Refused(message, cause=UrlError(message)) from err
            return response

        def urlopen(self, req):
            url = req if isinstance(req, str) else getattr(req, "url", None) or req.get_full_url()
            self.check(url)
            try:
                response = super().urlopen(req)
            except Refused as err:
                raise err.cause from err
            return guard_response(response, self.check)

    return GuardedYoutubeDL


def _pinned_pools(policy: UrlPolicy, resolve: Resolver | None, refused: type[Exception]) -> dict[str, type]:
    """urllib3 connection pools whose connections resolve the host, refuse it unless every address
    is public (:func:`public_addresses`), and connect to a checked address: what the validator saw
    is what the socket reaches, whatever the DNS answers in between."""
    import urllib3
    from urllib3.exceptions import NewConnectionError

    def pinned(base: type) -> type:
        class PinnedConnection(base):
            def _new_conn(self):
                try:
                    addresses = public_addresses(self._dns_host, self.port, policy, resolve)
                except UrlError as err:
                    raise refused(str(err), cause=err) from err
                failure: OSError | None = None
                for address in addresses:
                    try:
                        return urllib3.util.connection.create_connection(
                            (address, self.port), self.timeout, source_address=self.source_address,
                            socket_options=self.socket_options)
                    except OSError as err:
                        failure = err
                raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")

        return PinnedConnection

    class PinnedHTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = pinned(urllib3.connection.HTTPConnection)

    class PinnedHTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = pinned(urllib3.connection.HTTPSConnection)

    return {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}


def guard_response(response, check: Callable[[str], None]):
    """Validate a response's final URL (after redirects) before anything reads its body."""
    try:
        check(response.url)
    except UrlError:
        response.close()
        raise
    return response


def _format_selector(max_height: int) -> str:
    h = int(max_height)
    # "<=?" lets a format of unknown height through (direct links): decoding downsizes anyway.
    return (f"bv*[height<=?{h}][ext=mp4]+ba[ext=m4a]/b[height<=?{h}][ext=mp4]/"
            f"bv*[height<=?{h}]+ba/b[height<=?{h}]")


def _configured_extractors(options: SourceOptions) -> list[str]:
    return list(options.extractors) + (["generic"] if options.allow_generic_extractor else [])


def extractor_patterns(url: str, options: SourceOptions) -> list[str]:
    """The extractors allowed for ``url`` (regexes over yt-dlp's extractor names): the configured
    ones, and for a host the administrator allowed (``policy.extra_hosts``) the site's own
    extractor, or the generic one when yt-dlp has none for it."""
    patterns = _configured_extractors(options)
    host = host_of(url)
    if any(host == h or host.endswith("." + h) for h in options.policy.extra_hosts):
        patterns.append(_site_extractor(url))
    return list(dict.fromkeys(patterns))


@functools.lru_cache(maxsize=256)
def _site_extractor(url: str) -> str:
    from yt_dlp.extractor import gen_extractor_classes

    for ie in gen_extractor_classes():
        if ie.ie_key() != "Generic" and ie.working() and ie.suitable(url):
            return re.escape(ie.IE_NAME.lower())
    return "generic"


def ydl_params(options: SourceOptions, outtmpl: str, needs_js: bool, extractors: list[str] | None = None) -> dict:
    if extractors is None:
        extractors = _configured_extractors(options)
    return {
        "format": _format_selector(options.max_height),
        "merge_output_format": "mp4",
        "postprocessors": [{"key": "FFmpegVideoRemuxer", "preferedformat": "mp4"}],
        "outtmpl": {"default": outtmpl},
        "allowed_extractors": extractors,
        "noplaylist": True,
        "max_filesize": options.max_filesize_bytes,
        "socket_timeout": options.socket_timeout_s,
        "hls_prefer_native": True,  # HLS fragments through yt-dlp's (guarded) HTTP, not ffmpeg
        "js_runtimes": find_js_runtime(options.js_runtime) if needs_js else {},
        "cachedir": False, "quiet": True, "noprogress": True, "no_color": True,
        "logger": _YtDlpLogger(), "restrictfilenames": True, "overwrites": True,
    }


def _allowed_extractor(name: str, patterns: list[str]) -> bool:
    return any(re.fullmatch(p, name, re.IGNORECASE) for p in patterns)


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def cache_key(url: str, options: SourceOptions) -> tuple[str, str] | None:
    """(extractor key, video id) from the URL alone, without network, when the extractor can tell."""
    from yt_dlp.extractor import gen_extractor_classes

    patterns = extractor_patterns(url, options)
    for ie in gen_extractor_classes():
        if not _allowed_extractor(ie.IE_NAME.lower(), patterns) or not ie.suitable(url):
            continue
        if ie.ie_key() == "Generic":
            return "Generic", _url_hash(url)
        temp_id = ie.get_temp_id(url)
        return (ie.ie_key(), str(temp_id)) if temp_id else None
    return None


def _cache_paths(cache_dir: Path, key: tuple[str, str]) -> tuple[Path, Path]:
    folder = Path(cache_dir) / re.sub(r"[^A-Za-z0-9_-]", "_", key[0])
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", key[1])
    return folder / f"{stem}.mp4", folder / f"{stem}.json"


def _cache_hit(cache_dir: Path, key: tuple[str, str]) -> SourceVideo | None:
    video, meta = _cache_paths(cache_dir, key)
    if not (video.is_file() and meta.is_file()):
        return None
    data = atomic.read_json(meta)
    log.info("using cached download %s for %s", video, data.get("url"))
    return SourceVideo(video, data["url"], key[0], key[1], data.get("title", ""), data.get("duration_s"), True)


def _cause(err: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    return re.sub(r"^ERROR:\s*", "", text) or type(err).__name__


def check_info(info: dict, url: str, options: SourceOptions) -> None:
    """Refuse playlists, live streams, and videos over the duration or size limits, before downloading."""
    if info.get("_type") in ("playlist", "multi_video") or info.get("entries") is not None:
        raise UrlError(code="url.playlist", url=url)
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming", "post_live"):
        raise UrlError(code="url.live", url=url)
    duration = info.get("duration")
    if duration and duration > options.max_duration_s:
        raise UrlError(code="url.too_long", url=url, minutes=f"{duration / 60:.1f}",
                       limit=f"{options.max_duration_s / 60:.1f}")
    formats = info.get("requested_formats") or [info]
    size = sum((f.get("filesize") or f.get("filesize_approx") or 0) for f in formats)
    if size > options.max_filesize_bytes:
        raise UrlError(code="url.too_big", url=url, mb=f"{size / 1e6:.0f}",
                       limit=f"{options.max_filesize_bytes / 1e6:.0f}")


def _info_key(info: dict, url: str) -> tuple[str, str]:
    extractor = str(info.get("extractor_key") or "Generic")
    return (extractor, _url_hash(url)) if extractor == "Generic" else (extractor, str(info["id"]))


def _downloaded_file(folder: Path, url: str, options: SourceOptions) -> Path:
    files = [p for p in folder.glob("*") if p.is_file() and p.suffix not in (".part", ".ytdl", ".temp")]
    if not files:
        raise UrlError(code="url.no_file", url=url, limit=f"{options.max_filesize_bytes / 1e6:.0f}",
                       height=options.max_height)
    return max(files, key=lambda p: (p.suffix == ".mp4", p.stat().st_size))


def _store(path: Path, key: tuple[str, str], info: dict, url: str, options: SourceOptions) -> SourceVideo:
    from pipeline.media import probe

    if path.stat().st_size > options.max_filesize_bytes:
        raise UrlError(code="url.too_big", url=url, mb=f"{path.stat().st_size / 1e6:.0f}",
                       limit=f"{options.max_filesize_bytes / 1e6:.0f}")
    try:
        duration = probe(path).duration_s
    except MediaError as err:
        raise UrlError(code="url.not_video", url=url, reason=err.cause) from err
    if duration > options.max_duration_s:
        raise UrlError(code="url.too_long", url=url, minutes=f"{duration / 60:.1f}",
                       limit=f"{options.max_duration_s / 60:.1f}")
    video, meta = _cache_paths(options.cache_dir, key)
    video.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, video)
    title = str(info.get("title") or "")
    atomic.write_json(meta, {"url": url, "extractor": key[0], "id": key[1], "title": title,
                             "duration_s": duration, "webpage_url": info.get("webpage_url")})
    return SourceVideo(video, url, key[0], key[1], title, duration, False)


def _run_ydl(step: Callable[[], dict], url: str) -> dict:
    from yt_dlp.utils import YoutubeDLError

    try:
        return step()
    except YoutubeDLError as err:
        raise UrlError(code="url.download_failed", url=url, reason=_cause(err)) from err


def fetch_url(url: str, options: SourceOptions, *, resolve: Resolver | None = None) -> SourceVideo:
    """Validate, then download with yt-dlp into the cache (or reuse the cached file)."""
    url = validate_url(url, options.policy, resolve=resolve)
    key = cache_key(url, options)
    if key is not None and (hit := _cache_hit(options.cache_dir, key)):
        return hit
    needs_js = key is None or key[0].lower().startswith("youtube")
    tmp = Path(options.cache_dir) / ".tmp" / uuid.uuid4().hex
    try:
        params = ydl_params(options, str(tmp / "video.%(ext)s"), needs_js, extractor_patterns(url, options))
        with _guarded_class()(params, options.policy, resolve) as ydl:
            info = _run_ydl(lambda: ydl.extract_info(url, download=False), url)
            if info is None:
                raise UrlError(code="url.no_video", url=url)
            check_info(info, url, options)
            key = _info_key(info, url)
            if hit := _cache_hit(options.cache_dir, key):
                return hit
            info = _run_ydl(lambda: ydl.process_ie_result(info, download=True), url)
        return _store(_downloaded_file(tmp, url, options), key, info, url, options)
    except UrlError as err:  # a refused inner request or redirect: name the URL the user gave
        if str(err).startswith(url):
            raise
        if err.code != UrlError.generic:  # the same refusal, told of the URL the user gave
            raise UrlError(code=err.code, **{**err.params, "url": url}) from err
        raise UrlError(f"{url}: {err}") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_source(source: str | Path, options: SourceOptions, *, resolve: Resolver | None = None) -> SourceVideo:
    """An uploaded/local file as is, or an http(s) URL fetched into the cache."""
    if looks_like_url(str(source)):
        return fetch_url(str(source), options, resolve=resolve)
    path = Path(source)
    if not path.is_file():
        raise MediaError(path, "does not exist or is not a file")
    return SourceVideo(path, "", "file", "", path.name, None, False)
