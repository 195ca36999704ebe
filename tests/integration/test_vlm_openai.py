"""The OpenAI-compatible describer against a local http.server that checks the request
shape and returns canned completions (plain, fenced, and a server refusing json_schema)."""

from __future__ import annotations

import base64
import copy
import http.server
import json
import threading

import numpy as np
import pytest

from models.vlm_openai import OpenAICompatibleDescriber, OpenAIVLMOptions
from pipeline.analysis import AnalysisOptions, ShotInput, analyze_shots
from pipeline.analysis.schema import shot_json_schema
from pipeline.errors import ConfigError, ModelError

from testkit import send_json

VALID = {
    "summary": "Dos personas conversan en una cocina.", "setting": "cocina",
    "people": {"count": 2, "apparent_roles": ["madre", "hijo"]}, "actions": ["conversar"], "objects": ["mesa"],
    "on_screen_text": [], "speech": {"summary": "Hablan de la cena.", "topics": ["familia"], "tone": "tranquilo"},
    "intolerance": {"present": False, "type": None, "target_group": None, "evidence": "", "severity": "none"},
}


class Server:
    """Answers from ``self.answers`` (the last one repeats); rejects the formats in ``self.reject``."""

    def __init__(self):
        self.requests, self.answers, self.reject, self.status = [], [], set(), 200
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                fmt = (body.get("response_format") or {}).get("type")
                if fmt in server.reject or server.status != 200:
                    code = 400 if fmt in server.reject else server.status
                    send_json(self, code, {"error": {"message": f"response_format {fmt} is not supported"}})
                    return
                text = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                send_json(self, 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_port}/v1"


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


@pytest.fixture
def frames(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    path = tmp_path / "f.png"
    Image.fromarray(rng.integers(0, 255, (600, 1600, 3), dtype=np.uint8)).save(path)
    return [path, rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)]


def options(server, **kw):
    return OpenAIVLMOptions(base_url=server.base_url, model="qwen2.5-vl", api_key="secret", timeout_s=10, **kw)


def test_request_shape_images_schema_and_auth(server, frames):
    server.answers = [json.dumps(VALID)]
    describer = OpenAICompatibleDescriber(options(server))
    schema = shot_json_schema()
    assert json.loads(describer.describe(frames, "transcripción: hola", "instrucciones", schema)) == VALID
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer secret"
    body = req["body"]
    assert body["model"] == "qwen2.5-vl" and body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema
    system, user = body["messages"]
    assert system == {"role": "system", "content": "instrucciones"}
    images = [p for p in user["content"] if p["type"] == "image_url"]
    assert len(images) == 2 and user["content"][-1] == {"type": "text", "text": "transcripción: hola"}
    import io

    from PIL import Image

    url = images[0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert max(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size) == 768  # downscaled
    assert describer.last_timings["model_s"] > 0


def test_rejected_json_schema_falls_back_and_remembers(server, frames):
    server.answers, server.reject = [json.dumps(VALID)], {"json_schema"}
    describer = OpenAICompatibleDescriber(options(server))
    describer.describe(frames, "a", "b", shot_json_schema())
    describer.describe(frames, "a", "b", shot_json_schema())
    formats = [(r["body"].get("response_format") or {}).get("type") for r in server.requests]
    assert formats == ["json_schema", "json_object", "json_object"]


def test_no_response_format_when_the_server_rejects_both(server, frames):
    server.answers, server.reject = ["ok"], {"json_schema", "json_object"}
    describer = OpenAICompatibleDescriber(options(server))
    assert describer.describe(frames, "a", "b", {"type": "object"}) == "ok"
    assert "response_format" not in server.requests[-1]["body"]


def test_fixed_mode_does_not_fall_back(server, frames):
    server.answers, server.reject = ["x"], {"json_schema"}
    with pytest.raises(ModelError, match="HTTP 400"):
        OpenAICompatibleDescriber(options(server, response_format="json_schema")).describe(frames, "a", "b", {})


def test_fenced_answers_and_retries_through_analyze_shots(server, frames):
    """A fenced answer parses; an off-schema one is retried with the previous answer and a correction."""
    bad = copy.deepcopy(VALID)
    del bad["intolerance"]  # the one part that cannot be guessed
    server.answers = [json.dumps(bad), "```json\n" + json.dumps(VALID, ensure_ascii=False) + "\n```",
                      '```json\n{"summary": "Resumen del vídeo", "main_topics": ["familia"]}\n```']
    describer = OpenAICompatibleDescriber(options(server))
    result = analyze_shots("v", [ShotInput(0, 0.0, 3.0, tuple(frames))], [], describer,
                           AnalysisOptions(progress=False))
    assert result.shots[0].status == "ok" and result.shots[0].attempts == 2
    retry = server.requests[1]["body"]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"] == json.dumps(bad) and "intolerance" in retry[3]["content"]
    assert result.summary.text == "Resumen del vídeo"
    assert server.requests[-1]["body"]["messages"][1]["content"][-1]["type"] == "text"  # summary: text only


def test_unreachable_server_and_bad_urls():
    with pytest.raises(ConfigError):
        OpenAIVLMOptions(base_url="localhost:8000/v1", model="m")
    describer = OpenAICompatibleDescriber(OpenAIVLMOptions(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2))
    with pytest.raises(ModelError, match="cannot reach the VLM server"):
        describer.describe([], "a", "b")


def test_server_errors_are_model_errors(server):
    server.answers, server.status = ["x"], 500
    with pytest.raises(ModelError, match="HTTP 500"):
        OpenAICompatibleDescriber(options(server)).describe([], "a", "b")
