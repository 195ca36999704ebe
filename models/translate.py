"""Spanish -> English query translation with Apertium (Debian ``apertium-eng-spa``), a subprocess.

Rule-based and literal ("Botellas con productos químicos en un laboratorio" -> "Bottles with
chemical products in a laboratory"), ~0.2 s a call, no model download: a dependency-light way to
put Spanish queries in front of any English-only text tower. One call translates many lines
(``-f line``).

A query that is not Spanish is left as it is: Apertium marks words it does not know with ``*``;
when at least half the words of a line are unknown (capitalised names not counted), the line is
taken for English and passed through unchanged ("a man with a red car" would otherwise become "to *man *with to net *car").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from pipeline.errors import ModelError

_MARK = re.compile(r"(?<![\w])[*#@](?=\w)")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def unknown_share(line: str) -> float:
    """The share of words Apertium marked unknown (``*word``) in one output line; capitalised
    unknown words (names: "*Casablanca") are not counted."""
    words = _WORD.findall(line)
    unknown = len(re.findall(r"(?<![\w])\*[^\W\d_A-ZÁÉÍÓÚÑÜ]", line))
    return unknown / len(words) if words else 0.0


class ApertiumTranslator:
    """``apertium -f line spa-eng``; ``max_unknown`` is the share of unknown words from which a
    line is returned untranslated."""

    def __init__(self, pair: str = "spa-eng", timeout_s: float = 20.0, max_unknown: float = 0.5):
        self.pair, self.timeout_s, self.max_unknown = pair, timeout_s, max_unknown
        self.name = f"apertium {pair}"

    @staticmethod
    def available(pair: str = "spa-eng") -> bool:
        """Whether the ``apertium`` command and the language pair are installed."""
        if shutil.which("apertium") is None:
            return False
        try:
            listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return False
        return pair in listed.split()

    def translate(self, texts: Sequence[str]) -> list[str]:
        texts = [" ".join(t.split()) for t in texts]  # one line each
        if not texts:
            return []
        if shutil.which("apertium") is None:
            raise ModelError("Apertium is not installed: apt install apertium-eng-spa (or choose another query "
                             "encoder)")
        try:
            done = subprocess.run(["apertium", "-f", "line", self.pair], input="\n".join(texts) + "\n",
                                  capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as err:
            raise ModelError(f"Apertium {self.pair} did not answer within {self.timeout_s:g} s") from err
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ModelError(f"Apertium {self.pair} failed ({tail}): is apertium-eng-spa installed?")
        lines = done.stdout.rstrip("\n").split("\n")
        if len(lines) != len(texts):
            raise ModelError(f"Apertium {self.pair} returned {len(lines)} lines for {len(texts)} queries")
        out = []
        for original, line in zip(texts, lines, strict=True):
            if unknown_share(line) >= self.max_unknown:
                out.append(original)
            else:
                out.append(_MARK.sub("", line).strip() or original)
        return out
