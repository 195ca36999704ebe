"""``python -m app analyze``: describe videos shot by shot with a vision-language model.

Top-level imports stay light (``app.cli`` imports this module to build its parser); the
pipeline and the models are imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app.config import ENVIRONMENT, VLM_BACKENDS, AnalysisSettings, Settings

ANALYZE_EPILOG = f"""\
Inputs: video files, folders (searched recursively), http(s) URLs (YouTube, plus the hosts
given with --allow-host or BUSCA_ALLOWED_HOSTS), or @list.txt with one path or URL per line
('#' starts a comment; relative paths are relative to the list).

Stages, each run over all videos before the next so that one model is loaded at a time:
  fetch (download URLs) -> segment (CLIP shots + frames for the model) -> transcribe (Whisper)
  -> describe (the VLM, one JSON per shot, then a video summary).
Run the same command again with the same --out to resume: finished work is never redone,
failed items are retried. With --out alone (no INPUT) the job in --out is resumed.

Written to --out: analyses/<item>.json, results.jsonl (one line per video), results.csv
(one row per shot), results.zip (all of them), manifest.json (the job's state).
Per-video artifacts (shots, frames, transcript, analysis) go to the data directory.

Before anything runs, the models are checked (the VLM server answers and serves the model, the
weights are on this machine or can be downloaded): a model that cannot work stops the job at
once with one line, before any video is segmented or transcribed. A model that fails in the
middle stops the job too; the videos not reached stay pending for the next run.

Exit codes: 0 every video analysed; 3 some failed (each listed with its cause); 1 setup error,
or the job stopped because a model could not work.

  python -m app analyze videos/ --out out/
  python -m app analyze @urls.txt --out out/ --vlm-backend openai --vlm-url http://localhost:8000/v1
  python -m app analyze clip.mp4 --out out/ --lang auto --whisper-model small --frames-per-shot 2

Defaults: --vlm-model {ENVIRONMENT["BUSCA_VLM_MODEL"][0]}, --whisper-model auto (large-v3 on a
GPU, small on CPU), --lang es.
"""


def add_parsers(sub, add_common: Callable, add_model: Callable) -> None:
    p = sub.add_parser("analyze", help="describe videos shot by shot (transcript + vision-language model)",
                       epilog=ANALYZE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="video file, folder, http(s) URL or @list.txt")
    p.add_argument("--out", required=True, help="job and results directory (same --out resumes)")
    p.add_argument("--lang", help="language spoken: es, en, ... or auto to detect (env BUSCA_AUDIO_LANG, default es)")
    p.add_argument("--whisper-model", help="faster-whisper size or CTranslate2 directory (env BUSCA_WHISPER_MODEL)")
    p.add_argument("--vlm-backend", choices=VLM_BACKENDS, help="env BUSCA_VLM_BACKEND, default transformers")
    p.add_argument("--vlm-model", help="Hugging Face id or local directory; with openai the served model name "
                   "(env BUSCA_VLM_MODEL)")
    p.add_argument("--vlm-url", help="OpenAI-compatible server up to /v1 (env BUSCA_VLM_URL)")
    p.add_argument("--vlm-api-key", help="API key of --vlm-url; prefer env BUSCA_VLM_API_KEY (flags show in ps)")
    p.add_argument("--instructions", metavar="FILE", help="text file replacing the default analysis instructions")
    p.add_argument("--frames-per-shot", type=int, help="frames shown to the model per shot (default 4)")
    p.add_argument("--frame-size", type=int, metavar="PIXELS", help="shorter side of those frames (default 448)")
    p.add_argument("--allow-host", action="append", metavar="HOST",
                   help="also accept URLs of this host (repeatable; env BUSCA_ALLOWED_HOSTS)")
    p.add_argument("--data-dir", help="data directory for the per-video artifacts (env BUSCA_DATA_DIR, default ./data)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    add_model(p)
    p.set_defaults(handler="app.cli.analyze:run_analyze")


def analysis_settings(args: argparse.Namespace, env: dict[str, str] | None = None) -> AnalysisSettings:
    """The BUSCA_* analysis settings with the flags that were given applied on top."""
    base = AnalysisSettings.from_env(env)
    hosts = tuple(dict.fromkeys(base.allowed_hosts + AnalysisSettings.parse_hosts(",".join(args.allow_host or []))))
    settings = base.override(whisper_model=args.whisper_model, vlm_backend=args.vlm_backend, vlm_model=args.vlm_model,
                             vlm_url=args.vlm_url, vlm_api_key=args.vlm_api_key, allowed_hosts=hosts)
    if args.lang is not None:
        settings = replace(settings, audio_lang=AnalysisSettings.parse_lang(args.lang))
    return settings


def analysis_options(args: argparse.Namespace):
    from pipeline.analysis import AnalysisOptions
    from pipeline.errors import ConfigError

    changes = {}
    if args.instructions:
        try:
            changes["instructions"] = Path(args.instructions).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read the instructions file {args.instructions} ({err})") from err
    if args.frames_per_shot is not None:
        changes["frames_per_shot"] = args.frames_per_shot
    if args.frame_size is not None:
        changes["frame_short_side"] = args.frame_size
    return AnalysisOptions(**changes)


def make_models(settings: Settings, analysis: AnalysisSettings):
    """(encoder, transcriber, describer); each loads when its stage starts."""
    from app.services import make_describer, make_encoder, make_transcriber

    models = settings.models_dir
    describer = make_describer(analysis, settings.device, models)  # a bad setting is reported before a missing model
    return (make_encoder(settings.clip_model, settings.device, models, settings.text_runtime),
            make_transcriber(analysis, settings.device, models), describer)


def job_sources(inputs: list[str], out: Path) -> list[str]:
    from pipeline.analysis import MANIFEST, read_manifest
    from pipeline.errors import ConfigError
    from pipeline.sources import expand_sources

    if not inputs:
        if (out / MANIFEST).is_file():
            return [item.source for item in read_manifest(out).items]
        raise ConfigError(f"give the videos to analyse (files, folders, URLs or @list.txt); {out} holds no job "
                          "to resume")
    sources = expand_sources(inputs)
    if not sources:
        raise ConfigError(f"no video files found in {', '.join(inputs)}")
    return sources


class _Bars:
    """One tqdm bar per stage (videos), and one for the shots of the video being described."""

    def __init__(self):
        from tqdm.auto import tqdm

        self.tqdm, self.stage, self.bar, self.shots = tqdm, None, None, None

    def stage_done(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = self.tqdm(total=total, desc=stage, unit="video", file=sys.stderr, disable=None)
        self.bar.n = done
        self.bar.refresh()
        if self.shots is not None:
            self.shots.close()
            self.shots = None

    def shot_done(self, done: int, total: int, message: str) -> None:
        if self.shots is None:
            self.shots = self.tqdm(total=total, desc="  shots", unit="shot", leave=False, file=sys.stderr,
                                   disable=None)
        self.shots.n = done
        self.shots.set_postfix_str(message, refresh=True)

    def close(self) -> None:
        for bar in (self.shots, self.bar):
            if bar is not None:
                bar.close()
        self.bar = self.shots = None


def print_table(items) -> None:
    """The per-video outcome (with its valid and failed shots), then every failure with its cause."""
    print(f"{'item':28}  {'status':7}  {'shots':>5} {'ok':>4} {'err':>4} {'flagged':>7}  {'severity':8}  source")
    for r in items:
        s = r.analysis.summary if r.analysis is not None else None
        counts = f"{s.shots_total:>5} {s.shots_ok:>4} {s.shots_failed:>4} {len(s.flagged_shots):>7}  " \
                 f"{s.max_severity.value:8}" if s else f"{'-':>5} {'-':>4} {'-':>4} {'-':>7}  {'-':8}"
        status = "FAILED" if r.status == "failed" else r.status
        print(f"{r.item_id[:28]:28}  {status:7}  {counts}  {r.source}")
    for r in items:
        if r.status == "failed":
            print(f"FAILED  {r.item_id} at {r.stage}: {r.error}")


def run_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli.output import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL
    from pipeline.analysis import STAGES, analysis_stages, create_job, export_job, read_manifest, run_job
    from pipeline.index import DataLayout, IngestOptions
    from pipeline.media import DecodeOptions
    from pipeline.sources import SourceOptions, UrlPolicy

    analysis = analysis_settings(args)
    options = analysis_options(args)
    out = Path(args.out)
    sources = job_sources(list(args.inputs), out)
    models = make_models(settings, analysis)
    create_job(out, sources, STAGES)
    layout = DataLayout(settings.data_dir)
    source_options = SourceOptions(
        cache_dir=settings.data_dir / "downloads", policy=UrlPolicy(extra_hosts=analysis.allowed_hosts),
        max_duration_s=analysis.max_duration_s, max_filesize_bytes=int(analysis.max_download_mb * 1024 * 1024))
    bars = _Bars()
    stages = analysis_stages(layout, source_options, *models, options,
                             IngestOptions(decode=DecodeOptions(fps=settings.fps)), shot_progress=bars.shot_done)
    try:
        summary = run_job(out, stages, progress=bars.stage_done)
    finally:
        bars.close()
    exported = export_job(out)
    started = any(s.status != "pending" for i in read_manifest(out).items for s in i.stages.values())
    if summary.stopped is not None and not started:  # stopped by the pre-flight: one line, nothing else
        print(f"error: {summary.stopped.error} (nothing was analysed; run the same command again once "
              "it is fixed)", file=sys.stderr)
        return EXIT_ERROR
    print_table(exported.items)
    done = sum(r.status in ("done", "partial") for r in exported.items)
    partial = sum(r.status == "partial" for r in exported.items)
    failed = sum(r.status == "failed" for r in exported.items)
    some = f" ({partial} with failed shots)" if partial else ""
    print(f"{done} analysed{some}, {failed} failed; results in {out} (results.csv, results.jsonl, "
          f"{exported.zip.name})", file=sys.stderr)
    if summary.stopped is not None:
        print(f"error: the job stopped at {summary.stopped.stage}: {summary.stopped.error or 'cancelled'}; "
              "run the same command again to resume", file=sys.stderr)
        return EXIT_ERROR
    if not exported.items:
        return EXIT_ERROR
    return EXIT_PARTIAL if failed or partial or not summary.complete else EXIT_OK
