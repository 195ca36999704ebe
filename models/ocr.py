"""On-screen text: OCR of video frames behind :class:`pipeline.protocols.TextReader`.

Two engines, both real and offline:

- ``rapidocr`` (the default): RapidOCR 3.10 with the PP-OCRv6 detection and recognition models
  bundled in its wheel (Apache-2.0), on ONNX Runtime. It finds text anywhere on the frame and
  reads Spanish accents. Only the bundled models are used (other languages would download).
- ``tesseract``: Debian's Tesseract 5 with ``spa+eng`` data, run as a subprocess on a binarised
  frame (grey, Otsu threshold, text made black on white), because on raw video frames it reads
  garbage; every word group it returns with confidence below ``min_score`` is dropped.

``bench/channels_archive.py`` measures both on the benchmark's frames (character error rate);
the README says which won and by how much.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from models.device import require
from pipeline.errors import ModelError
from pipeline.records import OcrLine

log = logging.getLogger(__name__)

ENGINES = ("rapidocr", "tesseract")


def make_reader(engine: str = "rapidocr", min_score: float = 0.5):
    if engine == "rapidocr":
        return RapidOcrReader(min_score)
    if engine == "tesseract":
        return TesseractReader(min_score=min_score)
    raise ModelError(f"unknown OCR engine {engine!r}: use {' or '.join(ENGINES)}")


class RapidOcrReader:
    """RapidOCR with its bundled PP-OCRv6 models; loaded on first use."""

    name = "rapidocr:PP-OCRv6"

    def __init__(self, min_score: float = 0.5):
        self.min_score = min_score
        self._engine = None

    def check(self) -> None:
        """Raise :class:`ModelError` unless RapidOCR and ONNX Runtime are installed (nothing is loaded)."""
        for module in ("rapidocr", "onnxruntime"):
            if importlib.util.find_spec(module) is None:
                raise ModelError(f"RapidOCR cannot run: {module} is not installed (pip install rapidocr==3.10.0 "
                                 "onnxruntime), or use BUSCA_OCR_ENGINE=tesseract")

    def load(self):
        if self._engine is None:
            rapidocr = require("rapidocr", "pip install rapidocr==3.10.0 onnxruntime")
            try:
                self._engine = rapidocr.RapidOCR(params={"Global.log_level": "error",
                                                         "Global.text_score": self.min_score})
            except Exception as err:  # onnxruntime and config errors share no base class
                raise ModelError(f"cannot start RapidOCR: {err}. Install onnxruntime, or use "
                                 "BUSCA_OCR_ENGINE=tesseract") from err
        return self._engine

    def read(self, image: np.ndarray) -> list[OcrLine]:
        result = self.load()(np.ascontiguousarray(image[..., ::-1]))  # RapidOCR takes BGR arrays
        if result is None or result.txts is None:
            return []
        lines = []
        for text, score, box in zip(result.txts, result.scores, result.boxes, strict=True):
            pts = np.asarray(box, dtype=np.float32).reshape(-1, 2)
            if text.strip() and score >= self.min_score:
                lines.append(OcrLine(text.strip(), float(score), (float(pts[:, 0].min()), float(pts[:, 1].min()),
                                                                  float(pts[:, 0].max()), float(pts[:, 1].max()))))
        return sorted(lines, key=lambda line: (round(line.box[1] / 8), line.box[0]))

    def unload(self) -> None:
        self._engine = None


class TesseractReader:
    """Tesseract 5 (``spa+eng``) on a binarised frame, through its command line."""

    def __init__(self, languages: str = "spa+eng", min_score: float = 0.5):
        self.languages, self.min_score = languages, min_score
        self.name = f"tesseract:{languages}"

    def check(self) -> None:
        """Raise :class:`ModelError` unless the tesseract command is installed."""
        if shutil.which("tesseract") is None:
            raise ModelError("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-spa, "
                             "or use BUSCA_OCR_ENGINE=rapidocr")

    def read(self, image: np.ndarray) -> list[OcrLine]:
        exe = shutil.which("tesseract")
        if exe is None:
            raise ModelError("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-spa, "
                             "or use BUSCA_OCR_ENGINE=rapidocr")
        from PIL import Image

        with tempfile.TemporaryDirectory(prefix="busca-ocr-") as tmp:
            path = Path(tmp) / "frame.png"
            Image.fromarray(binarise(image)).save(path)
            proc = subprocess.run([exe, str(path), "-", "-l", self.languages, "--psm", "11", "tsv"],
                                  capture_output=True, text=True)
        if proc.returncode != 0:
            raise ModelError(f"tesseract failed ({proc.stderr.strip()[-200:]}): check that tesseract-ocr-spa "
                             "is installed")
        return _tsv_lines(proc.stdout, self.min_score)


def binarise(image: np.ndarray) -> np.ndarray:
    """Grey, Otsu's threshold, and the minority side (the text) black on white, doubled in size
    (Tesseract reads 20-30 px letters best)."""
    grey = (np.asarray(image, dtype=np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    total, levels = hist.sum(), np.arange(256)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    between = (mean[-1] * weight / total - mean) ** 2 / np.maximum(weight * (total - weight), 1e-9) * total
    threshold = int(np.argmax(between))
    bright = grey > threshold
    text = bright if bright.mean() < 0.5 else ~bright
    out = np.where(text, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(out, 2, axis=0), 2, axis=1)


def _tsv_lines(tsv: str, min_score: float) -> list[OcrLine]:
    """Tesseract's TSV words grouped into lines (block, paragraph, line), confident words only."""
    groups: dict[tuple[str, str, str], list[tuple[str, float, list[float]]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip():
            continue
        conf = float(cols[10]) / 100.0
        if conf < min_score:
            continue
        left, top, width, height = (float(c) / 2 for c in cols[6:10])  # the frame was read at twice its size
        groups.setdefault((cols[2], cols[3], cols[4]), []).append(
            (cols[11].strip(), conf, [left, top, left + width, top + height]))
    lines = []
    for words in groups.values():
        boxes = np.array([w[2] for w in words])
        lines.append(OcrLine(" ".join(w[0] for w in words), float(np.mean([w[1] for w in words])),
                             (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
                              float(boxes[:, 2].max()), float(boxes[:, 3].max()))))
    return sorted(lines, key=lambda line: (round(line.box[1] / 8), line.box[0]))
