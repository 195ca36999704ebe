"""URL validation, the yt-dlp request guard and the download cache. No test reaches the network:
DNS is faked with a patched ``socket.getaddrinfo``; downloads come from a local http.server."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, MediaError, UrlError
from pipeline.sources import UrlPolicy, validate_url
from pipeline.sources.fetch import (
    SourceOptions,
    _guarded_class,
    cache_key,
    check_info,
    fetch_url,
    find_js_runtime,
    guard_response,
    resolve_source,
)

PUBLIC_IP = "142.250.184.14"


def fake_dns(table: dict[str, list[str]]):
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(f"unknown host {host}")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in table[host]]
    return getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    table = {"www.youtube.com": [PUBLIC_IP], "youtu.be": [PUBLIC_IP], "m.youtube.com": [PUBLIC_IP]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(table))
    return table


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ",
    "http://m.youtube.com/shorts/abcdefghijk",
])
def test_youtube_urls_are_accepted(dns, url):
    assert validate_url(url) == url


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://www.youtube.com/x", "javascript:alert(1)", "www.youtube.com/watch?v=x",
    "https://user:pw@www.youtube.com/watch?v=x", "https:///nohost",
])
def test_bad_schemes_and_shapes_are_refused(dns, url):
    with pytest.raises(UrlError):
        validate_url(url)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "10.1.2.3", "192.168.1.10",
                                  "169.254.169.254", "evil.example.com", "youtube.com.evil.net"])
def test_hosts_off_the_allowlist_are_refused(dns, host):
    with pytest.raises(UrlError, match="allowlist"):
        validate_url(f"http://{host}/video")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "10.1.2.3", "192.168.1.10", "172.16.0.1",
                                  "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1", "[fc00::1]",
                                  "[fe80::1]", "[::ffff:127.0.0.1]", "2130706433"])
def test_non_public_addresses_are_refused_even_when_allowlisted(monkeypatch, host):
    bare = host.strip("[]")
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"localhost": ["127.0.0.1", "::1"],
                                                         "2130706433": ["127.0.0.1"]}))
    policy = UrlPolicy(allowed_hosts=(bare,))
    with pytest.raises(UrlError, match="non-public"):
        validate_url(f"http://{host}/video", policy)


def test_hostname_resolving_to_a_private_address_is_refused(dns):
    dns["www.youtube.com"] = [PUBLIC_IP, "10.0.0.7"]  # one bad address is enough
    with pytest.raises(UrlError, match="10.0.0.7 is a private"):
        validate_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")


def test_unresolvable_host_is_refused_with_the_cause(dns):
    with pytest.raises(UrlError, match="cannot resolve host youtube-nocookie.com"):
        validate_url("https://youtube-nocookie.com/embed/x")


def test_extra_hosts_extend_the_allowlist(dns):
    dns["vimeo.com"] = [PUBLIC_IP]
    assert validate_url("https://vimeo.com/1", UrlPolicy(extra_hosts=("vimeo.com",)))


class FakeResponse:
    def __init__(self, url, location=None):
        self.url, self.closed = url, False
        self.is_redirect = location is not None
        self.headers = {"location": location} if location else {}

    def close(self):
        self.closed = True


def test_final_url_after_redirects_is_checked(dns):
    check = lambda url: validate_url(url, allowlist=False)  # noqa: E731
    good = FakeResponse("https://www.youtube.com/watch?v=x")
    assert guard_response(good, check) is good
    bad = FakeResponse("http://169.254.169.254/latest/meta-data")
    with pytest.raises(UrlError, match="link-local"):
        guard_response(bad, check)
    assert bad.closed


def test_redirect_hook_refuses_a_private_target_before_it_is_followed(dns):
    ydl = _guarded_class()({"quiet": True}, UrlPolicy())
    ok = FakeResponse("https://www.youtube.com/a", location="/b")
    assert ydl._redirect_hook(ok) is ok
    bad = FakeResponse("https://www.youtube.com/a", location="http://192.168.0.1/admin")
    with pytest.raises(Exception, match="redirect refused") as info:
        ydl._redirect_hook(bad)
    assert bad.closed and isinstance(info.value.cause, UrlError)
    assert list(ydl._request_director.handlers) == ["Requests"]  # no unguarded handler left


def test_every_request_url_is_checked_before_sending(dns, monkeypatch):
    ydl = _guarded_class()({"quiet": True}, UrlPolicy())
    sent = []
    monkeypatch.setattr(ydl._request_director, "send", lambda req: sent.append(req.url) or FakeResponse(req.url))
    with pytest.raises(UrlError):
        ydl.urlopen("http://10.0.0.1/x")
    assert sent == []
    assert ydl.urlopen("https://www.youtube.com/watch?v=x").url.endswith("v=x")


def test_info_checks_refuse_before_downloading(tmp_path):
    opts = SourceOptions(cache_dir=tmp_path, max_duration_s=600, max_filesize_bytes=10_000_000)
    check_info({"id": "a", "duration": 300, "filesize_approx": 1_000}, "u", opts)
    for info, reason, code in [
        ({"duration": 601}, "10.0 min, over the limit of 10.0 min", "url.too_long"),
        ({"_type": "playlist", "entries": []}, "playlist", "url.playlist"),
        ({"is_live": True}, "live", "url.live"),
        ({"requested_formats": [{"filesize": 9_000_000}, {"filesize_approx": 2_000_000}]}, "11 MB", "url.too_big"),
    ]:
        with pytest.raises(UrlError, match=reason) as refused:
            check_info(info, "https://www.youtube.com/watch?v=a", opts)
        assert refused.value.code == code and refused.value.params["url"].endswith("v=a")  # the UI words it


def test_cache_key_comes_from_the_url_alone(tmp_path):
    opts = SourceOptions(cache_dir=tmp_path)
    assert cache_key("https://youtu.be/dQw4w9WgXcQ", opts) == ("Youtube", "dQw4w9WgXcQ")
    assert cache_key("https://example.com/a.mp4", opts) is None  # generic extractor off by default


def test_js_runtime_specs(tmp_path, monkeypatch):
    assert find_js_runtime("none") == {}
    with pytest.raises(ConfigError, match="not found"):
        find_js_runtime(f"node:{tmp_path / 'node'}")
    assert find_js_runtime("auto")["deno"]["path"]  # the deno package from requirements.txt
    monkeypatch.setitem(__import__("sys").modules, "deno", None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="pip install deno"):
        find_js_runtime("auto")


def test_local_sources(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x")
    assert resolve_source(str(video), SourceOptions(cache_dir=tmp_path)).path == video
    with pytest.raises(MediaError, match="does not exist"):
        resolve_source(tmp_path / "missing.mp4", SourceOptions(cache_dir=tmp_path))
    with pytest.raises(UrlError, match="only http and https"):
        resolve_source("file:///etc/passwd", SourceOptions(cache_dir=tmp_path))


# ---------------------------------------------------------------- yt-dlp against a local server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt install ffmpeg)")
    clip = tmp_path_factory.mktemp("media") / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    data, seen = clip.read_bytes(), []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{self.server.server_port}/video.mp4")
                self.end_headers()
            elif self.path == "/video.mp4":
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", seen
    httpd.shutdown()


def local_options(tmp_path: Path) -> SourceOptions:
    """Test-only override: 127.0.0.1 (the literal, not 'localhost') is allowlisted and trusted."""
    policy = UrlPolicy(allowed_hosts=("127.0.0.1",), trusted_private_hosts=("127.0.0.1",))
    return SourceOptions(cache_dir=tmp_path, policy=policy, extractors=(), allow_generic_extractor=True)


def test_download_is_cached_by_extractor_and_id(server, tmp_path):
    base, seen = server
    first = fetch_url(f"{base}/video.mp4", local_options(tmp_path))
    assert first.path.is_file() and first.path.parent.name == "Generic" and not first.from_cache
    assert first.duration_s == pytest.approx(2.0, abs=0.2)
    before = len(seen)
    second = fetch_url(f"{base}/video.mp4", local_options(tmp_path))
    assert second.from_cache and second.path == first.path and len(seen) == before
    assert not any((tmp_path / ".tmp").iterdir())


def test_redirect_to_a_loopback_name_is_refused_before_following(server, tmp_path):
    base, seen = server
    seen.clear()
    with pytest.raises(UrlError) as info:
        fetch_url(f"{base}/redirect", local_options(tmp_path))
    message = str(info.value)
    assert message.startswith(f"{base}/redirect") and "redirect refused" in message and "loopback" in message
    assert seen == ["/redirect"]  # the target was never requested


def test_failed_download_names_the_url_and_the_cause(server, tmp_path):
    base, _ = server
    with pytest.raises(UrlError, match=r"127\.0\.0\.1.*/missing\.mp4.*404"):
        fetch_url(f"{base}/missing.mp4", local_options(tmp_path))


def test_generic_extractor_is_off_unless_configured(server, tmp_path):
    base, seen = server
    options = SourceOptions(cache_dir=tmp_path, policy=local_options(tmp_path).policy)
    seen.clear()
    with pytest.raises(UrlError, match="(?i)no suitable extractor|no video"):
        fetch_url(f"{base}/video.mp4", options)
    assert seen == []


def test_source_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="extractor pattern"):
        SourceOptions(cache_dir=tmp_path, extractors=("youtube(",))
    with pytest.raises(ConfigError):
        SourceOptions(cache_dir=tmp_path, max_duration_s=0)


# ---------------------------------------------------------------- hosts beyond YouTube, DNS rebinding


def test_an_administrators_host_gets_its_sites_extractor_or_the_generic_one(tmp_path):
    from pipeline.sources.fetch import extractor_patterns

    options = SourceOptions(cache_dir=tmp_path, policy=UrlPolicy(extra_hosts=("vimeo.com", "media.example.org")))
    assert extractor_patterns("https://vimeo.com/76979871", options) == ["youtube", "vimeo"]
    assert extractor_patterns("https://media.example.org/a/clip.mp4", options) == ["youtube", "generic"]
    assert extractor_patterns("https://www.youtube.com/watch?v=x", options) == ["youtube"]
    assert extractor_patterns("https://other.example.com/a.mp4", options) == ["youtube"]  # validate_url refuses it


def test_a_direct_link_on_an_administrators_host_is_fetched_under_the_guard(server, tmp_path):
    """Before: 'No suitable extractor' for every BUSCA_ALLOWED_HOSTS host; the generic extractor
    stays off for every other host."""
    base, seen = server
    policy = UrlPolicy(extra_hosts=("127.0.0.1",), trusted_private_hosts=("127.0.0.1",))
    video = fetch_url(f"{base}/video.mp4", SourceOptions(cache_dir=tmp_path, policy=policy))
    assert video.path.is_file() and video.extractor == "Generic"
    seen.clear()
    with pytest.raises(UrlError, match="redirect refused"):  # its redirects still meet the validator
        fetch_url(f"{base}/redirect", SourceOptions(cache_dir=tmp_path, policy=policy))
    assert seen == ["/redirect"]


def test_dns_rebinding_between_the_check_and_the_connection_reaches_nothing(server, tmp_path):
    """The validator's lookups answer a public address, the connection's lookup the loopback: the
    connection checks the address it is about to use and refuses it; nothing reaches the server
    (without the pin, the system resolver sent the request to 127.0.0.1)."""
    base, seen = server
    port = int(base.rsplit(":", 1)[1])
    calls = []

    def rebinding(host, port_):
        calls.append(host)
        return [PUBLIC_IP] if len(calls) <= 2 else ["127.0.0.1"]

    policy = UrlPolicy(extra_hosts=("localhost",))
    seen.clear()
    with pytest.raises(UrlError, match="loopback"):
        fetch_url(f"http://localhost:{port}/video.mp4", SourceOptions(cache_dir=tmp_path, policy=policy),
                  resolve=rebinding)
    assert seen == [] and len(calls) >= 3


def test_connections_go_to_the_address_that_was_checked(server, tmp_path):
    """A name the system cannot resolve, answered by the validator's resolver: the download works
    only because the socket connects to the checked address, not to a second lookup."""
    base, _ = server
    port = int(base.rsplit(":", 1)[1])
    policy = UrlPolicy(extra_hosts=("video.invalid",), trusted_private_hosts=("video.invalid",))
    video = fetch_url(f"http://video.invalid:{port}/video.mp4", SourceOptions(cache_dir=tmp_path, policy=policy),
                      resolve=lambda host, port_: ["127.0.0.1"])
    assert video.path.is_file()
