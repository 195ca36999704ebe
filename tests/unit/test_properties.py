"""Property tests (hypothesis): timecodes round-trip, the URL validator never lets a foreign
scheme or a non-public address through and accepts allowlisted hosts, and segmentation keeps
its invariants on random embedding streams. Settings stay modest: this file runs in seconds."""

from __future__ import annotations

import ipaddress

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.core import format_timecode, parse_timecode
from pipeline.errors import UrlError
from pipeline.records import FrameEmbeddings
from pipeline.segment import segment
from pipeline.sources.urls import UrlPolicy, address_problem, validate_url

MODEST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- timecodes -------------------------------------------------------------------------------------


@MODEST
@given(st.floats(min_value=0, max_value=1000 * 3600, allow_nan=False, allow_infinity=False))
def test_parse_of_format_is_within_half_a_millisecond(seconds):
    text = format_timecode(seconds)
    assert abs(parse_timecode(text) - seconds) <= 0.0005 + 1e-9 * max(1.0, seconds)


@MODEST
@given(st.integers(0, 999), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_format_of_parse_gives_back_a_canonical_timecode(hours, minutes, secs, ms):
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"
    assert format_timecode(parse_timecode(text)) == text
    short = f"{minutes}:{secs:02d}"  # MM:SS, no hours, no milliseconds
    assert format_timecode(parse_timecode(short)) == f"00:{minutes:02d}:{secs:02d}.000"


@MODEST
@given(st.integers(0, 99), st.integers(60, 99), st.integers(0, 99))
def test_minutes_or_seconds_of_60_and_more_are_refused(hours, bad, other):
    for text in (f"{hours:02d}:{bad}:{other % 60:02d}", f"{hours:02d}:{other % 60:02d}:{bad}"):
        with pytest.raises(ValueError, match="below 60"):
            parse_timecode(text)


# --- URL validation --------------------------------------------------------------------------------

#: Ranges every supported Python's ``ipaddress`` knows as non-public (192.0.0.0/24 and 2002::/16
#: only since CPython's fix for CVE-2024-4032: see the separate test below).
NON_PUBLIC_V4 = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                 "192.0.0.0/29", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                 "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
NON_PUBLIC_V6 = ("::1/128", "::/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8")
PUBLIC_IP = "142.250.184.14"
#: CPython before 3.11.10 / 3.12.4 (CVE-2024-4032) takes these for global addresses.


def non_public_addresses() -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    v4 = st.sampled_from(NON_PUBLIC_V4).flatmap(lambda net: st.ip_addresses(v=4, network=net))
    v6 = st.sampled_from(NON_PUBLIC_V6).flatmap(lambda net: st.ip_addresses(v=6, network=net))
    mapped = v4.map(lambda ip: ipaddress.IPv6Address(f"::ffff:{ip}"))
    return st.one_of(v4, v6, mapped)


def _url_host(ip) -> str:
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
HOSTNAME = st.lists(LABEL, min_size=1, max_size=3).map(".".join).map(lambda h: h + ".example")


@MODEST
@given(non_public_addresses(), st.sampled_from(["http", "https", "HTTP"]), st.sampled_from(["", ":8080", ":443"]))
def test_literal_non_public_addresses_are_refused_even_when_allowlisted(ip, scheme, port):
    host = _url_host(ip)
    policy = UrlPolicy(allowed_hosts=(str(ip).lower(),))
    with pytest.raises(UrlError, match="non-public address"):
        validate_url(f"{scheme}://{host}{port}/watch?v=x", policy, resolve=_resolver({}))


@pytest.mark.parametrize("address", ["192.0.0.8", "192.0.0.200", "2002:a00:1::"])
def test_ietf_protocol_and_6to4_addresses_are_refused(address):
    with pytest.raises(UrlError, match="non-public address"):
        validate_url("https://cdn.example/v.mp4", allowlist=False, resolve=_resolver({"cdn.example": [address]}))


@MODEST
@given(HOSTNAME, st.lists(non_public_addresses(), min_size=1, max_size=3), st.booleans())
def test_hostnames_resolving_to_any_non_public_address_are_refused(host, bad, with_public):
    """DNS answers mixing public and private addresses are refused as a whole."""
    addresses = [str(ip) for ip in bad] + ([PUBLIC_IP] if with_public else [])
    policy = UrlPolicy(allowed_hosts=(host,))
    with pytest.raises(UrlError, match="non-public address"):
        validate_url(f"https://{host}/v.mp4", policy, resolve=_resolver({host: addresses}))
    # the check after redirects (no allowlist) refuses them too
    with pytest.raises(UrlError, match="non-public address"):
        validate_url(f"https://{host}/v.mp4", allowlist=False, resolve=_resolver({host: addresses}))


@MODEST
@given(st.sampled_from(NON_PUBLIC_V4).flatmap(lambda net: st.ip_addresses(v=4, network=net)),
       st.sampled_from(["decimal", "hex", "octal"]))
def test_other_spellings_of_a_private_ipv4_address_are_refused(ip, spelling):
    """``http://2130706433/``, ``http://0x7f000001/`` and ``http://0177.0.0.1/`` all mean 127.0.0.1 to
    the system resolver (inet_aton): they resolve to the same non-public address and are refused."""
    value = int(ip)
    host = {"decimal": str(value), "hex": hex(value),
            "octal": ".".join(f"0{int(part):o}" for part in str(ip).split("."))}[spelling]
    policy = UrlPolicy(allowed_hosts=(host,))
    with pytest.raises(UrlError, match="non-public|cannot resolve"):
        validate_url(f"http://{host}/video", policy)  # the real resolver: numeric forms need no DNS


@MODEST
@given(st.from_regex(r"[a-z][a-z0-9+.-]{0,10}", fullmatch=True), HOSTNAME)
def test_schemes_other_than_http_and_https_are_never_accepted(scheme, host):
    assume(scheme not in ("http", "https"))
    policy = UrlPolicy(allowed_hosts=(host,))
    with pytest.raises(UrlError, match="only http and https"):
        validate_url(f"{scheme}://{host}/x", policy, resolve=_resolver({host: [PUBLIC_IP]}))


@MODEST
@given(st.lists(LABEL, max_size=2), st.sampled_from(["youtube.com", "youtu.be", "youtube-nocookie.com"]),
       st.sampled_from(["http", "https"]), st.ip_addresses(v=4))
def test_allowlisted_hosts_on_public_addresses_are_accepted(subdomains, domain, scheme, ip):
    assume(address_problem(str(ip)) is None)
    host = ".".join([*subdomains, domain])
    url = f"{scheme}://{host}/watch?v=dQw4w9WgXcQ"
    assert validate_url(f"  {url} ", resolve=_resolver({host: [str(ip)]})) == url


@MODEST
@given(HOSTNAME)
def test_hosts_off_the_allowlist_are_refused(host):
    with pytest.raises(UrlError, match="allowlist"):
        validate_url(f"https://{host}/watch", resolve=_resolver({host: [PUBLIC_IP]}))
    with pytest.raises(UrlError, match="allowlist"):  # a look-alike suffix is not a subdomain
        validate_url(f"https://{host}.youtube.com.evil/watch", resolve=_resolver({}))


# --- segmentation invariants ------------------------------------------------------------------------


@st.composite
def embedding_streams(draw) -> FrameEmbeddings:
    """1-200 frames of 16-d embeddings: a few 'camera shots' (a centre each) with noise, at
    strictly increasing, irregular times."""
    n = draw(st.integers(1, 200))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_centres = draw(st.integers(1, 6))
    noise = draw(st.sampled_from([0.05, 0.3, 1.0]))
    centres = rng.normal(size=(n_centres, 16))
    run_ids = np.minimum(np.sort(rng.integers(0, n_centres * 3, n)) // 3, n_centres - 1)
    x = centres[rng.permutation(n_centres)][run_ids] + noise * rng.normal(size=(n, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    steps = rng.uniform(0.05, 2.0, n) if draw(st.booleans()) else np.full(n, 1.0 / draw(st.sampled_from([1, 2, 3])))
    start = draw(st.floats(0, 100))
    return FrameEmbeddings("v", start + np.cumsum(steps) - steps[0], x.astype(np.float32))


@MODEST
@given(embedding_streams())
def test_segmentation_invariants_on_random_streams(frames):
    seg = segment(frames)
    n, times = len(frames.timestamps), frames.timestamps
    shots, scenes = seg.shots, seg.scenes
    assert shots and scenes and len(seg.frame_classes) == n

    # shots: ordered, contiguous, covering every frame exactly once and the whole timeline
    assert [s.index for s in shots] == list(range(len(shots)))
    assert shots[0].first_frame == 0 and shots[-1].end_frame == n
    assert all(a.end_frame == b.first_frame and a.end_s == b.start_s for a, b in zip(shots, shots[1:], strict=False))
    covered = np.concatenate([np.arange(s.first_frame, s.end_frame) for s in shots])
    np.testing.assert_array_equal(covered, np.arange(n))
    assert shots[0].start_s == pytest.approx(times[0]) and shots[-1].end_s > times[-1]
    for shot in shots:
        assert shot.first_frame < shot.end_frame and shot.start_s < shot.end_s
        assert shot.start_s == pytest.approx(times[shot.first_frame])
        assert shot.first_frame <= shot.keyframe < shot.end_frame

    # scenes: same coverage; each shot inside its scene and of its class
    assert scenes[0].first_frame == 0 and scenes[-1].end_frame == n
    assert all(a.end_frame == b.first_frame for a, b in zip(scenes, scenes[1:], strict=False))
    for shot in shots:
        scene = scenes[shot.scene]
        assert scene.first_frame <= shot.first_frame and shot.end_frame <= scene.end_frame
        assert scene.start_s <= shot.start_s and shot.end_s <= scene.end_s
        assert shot.class_id == scene.class_id
        assert set(seg.frame_classes[shot.first_frame:shot.end_frame].tolist()) == {shot.class_id}

    # shot embeddings: one L2-normalised float32 row per shot
    assert seg.shot_embeddings.shape == (len(shots), 16) and seg.shot_embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(seg.shot_embeddings, axis=1), 1.0, atol=1e-5)
