"""Exports for editors and players: CMX3600 EDLs parsed back by OpenTimelineIO's maintained
CMX3600 adapter (an independent reader: its own timecode and drop-frame arithmetic), WebVTT/SRT
of a transcript, and deep links."""

from __future__ import annotations

import pytest

from pipeline.core import FrameRate
from pipeline.errors import ConfigError
from pipeline.exports import (
    EdlClip,
    LinkTarget,
    deep_link,
    edl_events,
    parse_link,
    reel_names,
    to_srt,
    to_webvtt,
    write_edl,
)
from pipeline.records import TranscriptSegment

otio = pytest.importorskip("opentimelineio", reason="pip install opentimelineio otio-cmx3600-adapter (dev)")

NTSC = 30000 / 1001
VID_A, VID_B, VID_C = "0123456789abcdef0123", "fedcba98765432100000", "00000000001111111111"
BASE = "http://archivo.example:7860/"


def _timeline(edl: str, fps: float):
    """What OpenTimelineIO reads from ``edl`` at ``fps`` (raises on a malformed list)."""
    return otio.adapters.read_from_string(edl, "cmx_3600", rate=fps)


def _read(edl: str, fps: float):
    return list(_timeline(edl, fps).tracks[0])


def _shots(fps: float, source: str = "Entrevista ñandú (final).mov") -> list[EdlClip]:
    spans = [(0.0, 2.5), (2.5, 7.04), (59.5, 61.25), (599.9, 605.0), (3599.0, 3601.5)]
    return [EdlClip(VID_A, source, s, e, fps, f"#{n} score 0.3", deep_link(BASE, "archivo", VID_A, s))
            for n, (s, e) in enumerate(spans, start=1)]


@pytest.mark.parametrize("fps", [25.0, 24.0, 24000 / 1001, 30.0, NTSC, 60000 / 1001, 50.0])
def test_edl_parsed_back_gives_the_shots_source_timecodes_at_the_videos_rate(fps):
    clips = _shots(fps)
    edl = write_edl(clips, "prueba")
    read = _read(edl, fps)
    assert len(read) == len(clips)
    frame = 1 / fps
    for clip, back in zip(clips, read, strict=True):
        start = back.source_range.start_time.to_seconds()
        end = back.source_range.end_time_exclusive().to_seconds()
        # the frame showing at the shot's start and at its end: at most one frame earlier
        assert clip.start_s - frame - 1e-6 <= start <= clip.start_s + 1e-6
        assert clip.end_s - frame - 1e-6 <= end <= clip.end_s + 1e-6
        assert back.name == clip.source  # FROM CLIP NAME
        assert back.metadata["cmx_3600"]["reel"] == "ENTREVIS"
        comments = back.metadata["cmx_3600"]["comments"]
        assert f"LINK: {clip.link}" in comments and "SOURCE FILE: " + clip.source in comments
    # the record side is one continuous timeline from 01:00:00:00: no gap between the events
    assert all(isinstance(item, otio.schema.Clip) for item in read)
    records = [[otio.opentime.from_timecode(tc, fps) for tc in line.split()[-2:]]
               for line in edl.splitlines() if line[:3].isdigit()]
    assert records[0][0].to_seconds() == pytest.approx(3600, abs=1 / fps)
    for (rec_in, rec_out), nxt, back in zip(records, records[1:] + [None], read, strict=True):
        assert (rec_out - rec_in).value == back.source_range.duration.value  # one rate: same length
        assert nxt is None or nxt[0] == rec_out
    assert edl.splitlines()[1] == ("FCM: DROP FRAME" if abs(fps - NTSC) < 1e-3 or abs(fps - 2 * NTSC) < 1e-3
                                   else "FCM: NON-DROP FRAME")


@pytest.mark.parametrize("fps", [NTSC, 60000 / 1001, 25.0, 24000 / 1001])
def test_drop_frame_labels_agree_with_opentimelineio(fps):
    rate = FrameRate.of(fps)
    for frame in [0, 1, 1799, 1800, 1801, 3597, 17981, 17982, 17983, 107891, 107892, 215784, 2589407]:
        assert rate.timecode(frame) == otio.opentime.to_timecode(otio.opentime.RationalTime(frame, fps), fps)


def test_drop_frame_skips_two_labels_each_minute_except_every_tenth():
    rate = FrameRate.of(NTSC)
    assert rate.drop and FrameRate.of(25.0).drop is False and FrameRate.of(30.0).drop is False
    assert [rate.timecode(f) for f in (1799, 1800)] == ["00:00:59;29", "00:01:00;02"]
    assert rate.timecode(17982) == "00:10:00;00"  # the tenth minute keeps ;00 and ;01


def test_mixed_rates_keep_each_source_at_its_own_rate_and_say_so():
    clips = [EdlClip(VID_A, "a.mp4", 10.0, 12.0, 25.0), EdlClip(VID_B, "b.mov", 10.0, 12.0, NTSC),
             EdlClip(VID_C, "c.mp4", 1.0, 2.0, 25.0)]
    edl = write_edl(clips, "mixed")
    events = edl_events(clips)
    assert [e.rate.fps for e in events] == [25.0, NTSC, 25.0]
    assert "FCM: NON-DROP FRAME" in edl.splitlines()[1]  # timeline at the rate most clips share
    assert "\nFCM: DROP FRAME\n002" in edl and "* SOURCE FPS: 29.970" in edl
    lines = [line for line in edl.splitlines() if line[:3].isdigit()]
    assert lines[1].split()[4:6] == ["00:00:09;29", "00:00:11;29"]  # 29.97 DF source timecodes
    # record durations keep the seconds: 2 s at the 25 fps timeline
    assert events[1].record_out - events[1].record_in == 50
    ntsc = [c for c in _read(edl, NTSC) if c.metadata["cmx_3600"]["reel"] == "B"]
    assert ntsc and ntsc[0].source_range.start_time.to_seconds() == pytest.approx(10.0, abs=1 / NTSC)


def test_reel_names_are_safe_short_and_unique():
    clips = [EdlClip(VID_A, "Reportaje 1.mp4", 0, 1, 25), EdlClip(VID_B, "Reportaje 2.mp4", 0, 1, 25),
             EdlClip(VID_C, "bars.mp4", 0, 1, 25), EdlClip("99999999990000000000", "日本.mp4", 0, 1, 25),
             EdlClip("88888888880000000000", "a\n001 X V C.mov", 0, 1, 25)]
    names = reel_names(clips)
    assert len(set(names.values())) == len(names)
    assert all(len(n) <= 8 and n.isalnum() and n.isascii() and n == n.upper() for n in names.values())
    assert names[VID_A] == "REPO0123" and names[VID_B] == "REPOFEDC"  # colliding prefixes get the id
    assert names[VID_C] != "BARS" and names["99999999990000000000"] == "V9999999"


def test_user_text_cannot_break_the_list():
    clips = [EdlClip(VID_A, "evil\r\n002  BL V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00.mov", 0, 1, 25,
                     note="x\n003  BARS")]
    edl = write_edl(clips, "title\nFCM: DROP FRAME")
    assert sum(line[:3].isdigit() for line in edl.splitlines()) == 1
    assert edl.splitlines()[1] == "FCM: NON-DROP FRAME" and len(_read(edl, 25)) == 1


def test_edl_limits_are_clear_errors():
    with pytest.raises(ConfigError, match="empty"):
        write_edl([], "x")
    with pytest.raises(ConfigError, match="999"):
        write_edl([EdlClip(VID_A, "a.mp4", i, i + 1, 25) for i in range(1000)], "x")
    with pytest.raises(ConfigError, match="frame rate"):
        write_edl([EdlClip(VID_A, "a.mp4", 0, 1, 0.0)], "x")


def test_webvtt_and_srt_of_a_transcript():
    segments = [TranscriptSegment(VID_A, 3.5, 6.0, "Segunda frase --> con flecha & <b>etiqueta</b>"),
                TranscriptSegment(VID_A, 0.0, 4.0, "Por el momento,\nusted es la única persona."),
                TranscriptSegment(VID_A, 7.0, 7.0, "vacía"), TranscriptSegment(VID_A, 3661.25, 3662.5, "  ")]
    vtt = to_webvtt(segments, "entrevista.mp4", deep_link(BASE, "archivo", VID_A, 0))
    assert vtt.startswith("WEBVTT\n\nNOTE entrevista.mp4 · http://archivo.example:7860/?db=archivo&video=")
    blocks = vtt.strip().split("\n\n")[2:]
    assert blocks[0] == "1\n00:00:00.000 --> 00:00:03.500\nPor el momento, usted es la única persona."  # trimmed
    assert blocks[1] == ("2\n00:00:03.500 --> 00:00:06.000\n"
                         "Segunda frase --&gt; con flecha &amp; &lt;b&gt;etiqueta&lt;/b&gt;")
    assert len(blocks) == 2  # a zero-length cue and an empty text are dropped
    srt = to_srt(segments)
    assert srt.split("\n\n")[0] == "1\n00:00:00,000 --> 00:00:03,500\nPor el momento, usted es la única persona."
    assert srt.count(" --> ") == 2 and "frase -> con flecha" in srt


def test_deep_links_round_trip_and_refuse_malformed_parts():
    link = deep_link("https://archivo.example.org/buscaescenas", "archivo", VID_A, 83.5)
    assert link == f"https://archivo.example.org/buscaescenas?db=archivo&video={VID_A}&t=83.5"
    assert parse_link({"db": "archivo", "video": VID_A, "t": "83.5"}) == LinkTarget("archivo", VID_A, 83.5)
    assert parse_link({"db": "archivo", "video": VID_A.upper(), "t": "00:01:23.5"}) == LinkTarget("archivo", VID_A, 83.5)
    assert parse_link({"db": "archivo", "video": VID_A}) == LinkTarget("archivo", VID_A, 0.0)
    for bad in ({"db": "../x", "video": VID_A}, {"db": "archivo", "video": "x" * 20},
                {"db": "archivo", "video": VID_A, "t": "-3"}, {"db": "archivo", "video": VID_A, "t": "nan"},
                {"db": "archivo", "video": VID_A, "t": "1e12"}, {}):
        assert parse_link(bad) is None
    with pytest.raises(ConfigError, match="http"):
        deep_link("javascript:alert(1)", "archivo", VID_A, 0)
    with pytest.raises(ConfigError):
        deep_link(BASE, "archivo", "not-an-id", 0)
