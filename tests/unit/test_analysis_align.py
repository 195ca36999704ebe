"""Transcript alignment to shots: hand-computed examples and invariants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.analysis.align import align_transcript, pieces_text
from pipeline.records import TranscriptSegment


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float


SHOTS = [Span(0.0, 2.0), Span(2.0, 5.0), Span(5.0, 10.0)]


def seg(start, end, text):
    return TranscriptSegment("v", start, end, text)


def texts(result):
    return [pieces_text(p) for p in result]


def test_segment_inside_one_shot():
    assert texts(align_transcript([seg(0.2, 1.5, "hola a todos")], SHOTS)) == ["hola a todos", "", ""]


def test_split_by_overlap_share():
    """1-3 s over shots [0,2) and [2,5): 1 s each, 4 words -> 2 + 2."""
    result = align_transcript([seg(1.0, 3.0, "a b c d")], SHOTS)
    assert texts(result) == ["a b", "c d", ""]
    assert (result[0][0].start_s, result[0][0].end_s) == (1.0, 2.0)
    assert (result[1][0].start_s, result[1][0].end_s) == (2.0, 3.0)


def test_split_rounds_half_up():
    """4-6 s over [2,5) and [5,10): 3 words, boundary round(1.5) = 2 -> 'one two' | 'three'."""
    assert texts(align_transcript([seg(4.0, 6.0, "one two three")], SHOTS)) == ["", "one two", "three"]


def test_split_uneven_share():
    """1.5-5.5 s: 0.5 s in shot 0, 3 s in shot 1, 0.5 s in shot 2; 8 words -> bounds 1, 7."""
    result = align_transcript([seg(1.5, 5.5, "w1 w2 w3 w4 w5 w6 w7 w8")], SHOTS)
    assert texts(result) == ["w1", "w2 w3 w4 w5 w6 w7", "w8"]


def test_max_mode_gives_the_whole_segment_to_the_longest_overlap():
    result = align_transcript([seg(1.0, 4.0, "a b c")], SHOTS, mode="max")
    assert texts(result) == ["", "a b c", ""]
    assert (result[1][0].start_s, result[1][0].end_s) == (2.0, 4.0)


def test_max_mode_tie_goes_to_the_earlier_shot():
    assert texts(align_transcript([seg(1.0, 3.0, "x")], SHOTS, mode="max")) == ["x", "", ""]


def test_segment_in_no_shot_is_left_out_and_instant_goes_to_its_shot():
    shots = [Span(0.0, 1.0), Span(2.0, 3.0)]
    result = align_transcript([seg(1.2, 1.8, "gap"), seg(2.5, 2.5, "instant")], shots)
    assert texts(result) == ["", "instant"]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="alignment mode"):
        align_transcript([], SHOTS, mode="nearest")


@given(
    cuts=st.lists(st.floats(0.1, 50.0), min_size=1, max_size=6, unique=True),
    segments=st.lists(st.tuples(st.floats(0.0, 60.0), st.floats(0.01, 10.0), st.integers(1, 12)), max_size=8),
)
def test_split_keeps_every_word_once_in_order(cuts, segments):
    """Shots tile [0, 60]: every word of every segment lands in exactly one shot, in order."""
    bounds = [0.0, *sorted(cuts), 60.0]
    shots = [Span(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    segs = []
    for k, (start, length, n_words) in enumerate(sorted(segments)):
        segs.append(seg(start, min(start + length, 60.0), " ".join(f"s{k}w{i}" for i in range(n_words))))
    result = align_transcript(segs, shots)
    got = " ".join(t for t in texts(result) if t).split()
    expected = " ".join(s.text for s in segs if s.end_s > s.start_s or s.start_s < 60.0).split()
    assert sorted(got) == sorted(expected)
    for pieces, shot in zip(result, shots, strict=True):
        for piece in pieces:
            assert shot.start_s <= piece.start_s <= piece.end_s <= shot.end_s


def test_unordered_shots_take_the_scan_path_with_the_same_result():
    segs = [seg(1.0, 3.0, "a b c d"), seg(4.0, 6.0, "one two three")]
    forward = align_transcript(segs, SHOTS)
    backward = align_transcript(segs, SHOTS[::-1])
    assert texts(backward) == texts(forward)[::-1]
