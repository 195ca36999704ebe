"""Pre-flight of the analysis models (models.preflight): nothing is loaded, every state is said.

The server cases use the test kit's fake OpenAI-compatible server on 127.0.0.1 (and a closed
port); the Whisper cases the real base model's folder when installed, and folders that are
not models."""

from __future__ import annotations

import pytest

from models.preflight import ModelUnavailable, openai_status, transformers_status, whisper_status
from models.vlm_openai import OpenAICompatibleDescriber, OpenAIVLMOptions
from models.whisper import WhisperTranscriber

from testkit import FakeVLM


@pytest.fixture
def server():
    fake = FakeVLM({}, {}, served=("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5vl:latest"))
    yield fake
    fake.close()


def test_a_server_that_serves_the_model_is_reachable(server):
    status = openai_status(server.url, "Qwen/Qwen2.5-VL-7B-Instruct")
    assert status.ok and status.state == "reachable" and status.where == server.url
    assert openai_status(server.url, "qwen2.5vl").ok  # Ollama's :latest tag
    assert server.requests == []  # nothing was sent to the model


def test_a_server_that_does_not_serve_the_model_lists_what_it_serves(server):
    status = openai_status(server.url, "llava")
    assert not status.ok and status.state == "not_served"
    assert "it serves: Qwen/Qwen2.5-VL-7B-Instruct, qwen2.5vl:latest" in status.message()


def test_a_server_that_does_not_list_its_models_counts_as_reachable(server):
    assert openai_status(server.url.removesuffix("/v1") + "/other", "m").state == "reachable"  # 404


def test_a_closed_port_is_unreachable_and_check_raises_with_a_code():
    describer = OpenAICompatibleDescriber(OpenAIVLMOptions(base_url="http://127.0.0.1:9/v1", model="m"))
    with pytest.raises(ModelUnavailable, match="cannot reach the model server at http://127.0.0.1:9/v1") as info:
        describer.check()
    assert info.value.code == "model_unreachable" and info.value.params["where"] == "http://127.0.0.1:9/v1"


def test_whisper_folders(tmp_path, monkeypatch):
    assert whisper_status(str(tmp_path / "nowhere"), "cpu").state == "missing"
    assert "has no model.bin" in whisper_status(str(tmp_path), "cpu").message()
    (tmp_path / "model.bin").write_bytes(b"x")
    assert whisper_status(str(tmp_path), "cpu").state == "found"
    assert whisper_status("enorme", "cpu").state == "invalid"


def test_hub_models_not_in_the_cache_are_missing_offline_and_downloaded_online(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert transformers_status("Qwen/Qwen2.5-VL-7B-Instruct").state == "download"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    status = transformers_status("Qwen/Qwen2.5-VL-7B-Instruct")
    assert status.state == "missing" and "downloads are off" in status.message()
    with pytest.raises(ModelUnavailable, match="Whisper model 'small' is not on this machine"):
        WhisperTranscriber("small", device="cpu").check()


def test_the_real_whisper_base_folder_is_found(whisper_base_dir):
    assert WhisperTranscriber(str(whisper_base_dir), device="cpu").status().state == "found"
