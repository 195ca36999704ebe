"""Any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp, TGI, OpenAI),
behind :class:`pipeline.protocols.Describer`. Plain HTTP with the standard library.

Frames go as base64 JPEG ``image_url`` parts, downscaled so their longer side is at most
``image_max_side`` (the server applies its own model's limits too). ``response_format``:
``"auto"`` first asks for ``json_schema`` (strict); when the server answers HTTP 400 it
retries the same request with ``json_object``, then with no response_format, and keeps
the first mode that worked for the following calls.

``base_url`` is configured by whoever deploys the app (typically a server on the same
machine or LAN), so it is not subject to the user-URL policy of :mod:`pipeline.urls`.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from models.vlm_transformers import load_frame
from pipeline.errors import ConfigError, ModelError
from pipeline.protocols import Frame

log = logging.getLogger(__name__)

FORMAT_MODES = ("json_schema", "json_object", "none")


@dataclass(frozen=True)
class OpenAIVLMOptions:
    """``base_url`` up to and including ``/v1``, e.g. ``http://localhost:8000/v1`` (vLLM) or
    ``http://localhost:11434/v1`` (Ollama). ``response_format``: ``"auto"`` or one of
    ``json_schema``, ``json_object``, ``none``."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 300.0
    max_tokens: int = 1024
    temperature: float = 0.0
    response_format: str = "auto"
    image_max_side: int = 768
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"VLM server URL must start with http:// or https://, got {self.base_url!r}")
        if self.response_format not in ("auto", *FORMAT_MODES):
            raise ConfigError(f"response_format must be auto or one of {', '.join(FORMAT_MODES)}")


class ServerRejected(ModelError):
    """The server answered HTTP 400 (typically: this response_format is not supported)."""


def image_part(frame: Frame, max_side: int, quality: int) -> dict:
    image = load_frame(frame)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}"}}


def response_format(mode: str, schema: dict | None) -> dict | None:
    if mode == "json_schema" and schema is not None:
        return {"type": "json_schema", "json_schema": {"name": "analysis", "strict": True, "schema": schema}}
    if mode in ("json_schema", "json_object"):
        return {"type": "json_object"}
    return None


def message_text(body: dict) -> str:
    """The assistant text of a chat-completions answer (string or list-of-parts content)."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as err:
        raise ModelError(f"the server's answer has no choices[0].message.content: {str(body)[:200]}") from err
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


class OpenAICompatibleDescriber:
    def __init__(self, options: OpenAIVLMOptions):
        self.options = options
        self.name = f"{options.model}@{options.base_url}"
        self.last_timings: dict[str, float] = {}
        self._modes = list(FORMAT_MODES) if options.response_format == "auto" else [options.response_format]

    def _post(self, payload: dict) -> dict:
        url = self.options.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        request = urllib.request.Request(url, json.dumps(payload).encode("utf-8"), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.options.timeout_s) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:300]
            if err.code == 400:
                raise ServerRejected(f"{url} rejected the request (HTTP 400): {detail}") from err
            raise ModelError(f"{url} answered HTTP {err.code}: {detail}") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise ModelError(f"cannot reach the VLM server at {url} ({getattr(err, 'reason', err)}); "
                             "check that it is running and the base URL") from err
        except json.JSONDecodeError as err:
            raise ModelError(f"{url} did not answer with JSON ({err})") from err

    def _messages(self, frames: Sequence[Frame], text: str, instructions: str, previous_output: str | None,
                  correction: str | None) -> list[dict]:
        o = self.options
        parts = [image_part(f, o.image_max_side, o.jpeg_quality) for f in frames]
        messages = [{"role": "system", "content": instructions},
                    {"role": "user", "content": [*parts, {"type": "text", "text": text}]}]
        if previous_output is not None and correction is not None:
            messages += [{"role": "assistant", "content": previous_output}, {"role": "user", "content": correction}]
        return messages

    def describe(self, frames: Sequence[Frame], text: str, instructions: str, schema: dict | None = None,
                 previous_output: str | None = None, correction: str | None = None) -> str:
        started = time.perf_counter()
        payload = {"model": self.options.model, "temperature": self.options.temperature,
                   "max_tokens": self.options.max_tokens,
                   "messages": self._messages(frames, text, instructions, previous_output, correction)}
        prepared = time.perf_counter()
        while True:
            fmt = response_format(self._modes[0], schema)
            body = {**payload, "response_format": fmt} if fmt else payload
            try:
                answer = self._post(body)
                break
            except ServerRejected:
                if len(self._modes) == 1:
                    raise
                log.warning("the server rejected response_format=%s; trying %s", self._modes[0], self._modes[1])
                self._modes.pop(0)
        self.last_timings = {"prepare_s": prepared - started, "model_s": time.perf_counter() - prepared}
        return message_text(answer)

    def status(self):
        """Does the server answer and serve the model? (:mod:`models.preflight`; nothing is sent to the model.)"""
        from models.preflight import openai_status

        return openai_status(self.options.base_url, self.options.model, self.options.api_key)

    def check(self) -> None:
        """Raise :class:`models.preflight.ModelUnavailable` unless the server is usable."""
        from models.preflight import require_usable

        require_usable(self.status())

    def unload(self) -> None:
        """Nothing is held locally."""
