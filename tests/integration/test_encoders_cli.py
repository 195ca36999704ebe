"""Encoders from the command line: a models folder instead of the network, an English-only
database searched in Spanish (M-CLIP, Apertium), re-indexing with a second encoder (killed and
resumed), the refusal of mismatching weights, and the one-line failure when a model cannot be had.

The models folder holds tiny random-weight stand-ins under the real names (a tiny CLIP as
``ViT-L-14/openai``, a tiny SigLIP2-shaped model as ``ViT-B-16-SigLIP2/webli``, a tiny XLM-R as
M-CLIP), loaded through the same code paths as the real files. They prove wiring, never quality.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli.main import main
from models.hub import model_folder
from pipeline.index import DataLayout, VideoCatalog, stored_encoders
from pipeline.store import open_store

from testkit import free_port, slideshow_images, write_video

ROOT = Path(__file__).resolve().parents[2]
L14, SIGLIP = "clip-vit-l-14-openai", "clip-vit-b-16-siglip2-webli"


def _as_spec(source: Path, dest: Path, spec: str) -> Path:
    shutil.copytree(source, dest)
    config = json.loads((dest / "open_clip_config.json").read_text())
    (dest / "open_clip_config.json").write_text(json.dumps({**config, "source": spec}))
    return dest


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, tiny_clip_dir, tiny_siglip2_dir, tiny_mclip_dir) -> Path:
    root = tmp_path_factory.mktemp("models")
    _as_spec(tiny_clip_dir, model_folder(root, "clip", "ViT-L-14/openai"), "ViT-L-14/openai")
    _as_spec(tiny_siglip2_dir, model_folder(root, "clip", "ViT-B-16-SigLIP2/webli"), "ViT-B-16-SigLIP2/webli")
    shutil.copytree(tiny_mclip_dir, model_folder(root, "mclip", "M-CLIP/XLM-Roberta-Large-Vit-L-14"))
    return root


@pytest.fixture
def env(tmp_path, models_dir, monkeypatch):
    for name in [n for n in os.environ if n.startswith("BUSCA_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUSCA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BUSCA_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("BUSCA_DEVICE", "cpu")
    return tmp_path / "data"


def _videos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = slideshow_images((160, 120))
    return [write_video(folder / f"v{i}.mp4", [(img, 1.0) for img in photos[i % 4:] + photos[:i % 4]])
            for i in range(n)]


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _check_both_vectors(data: Path, db: str) -> int:
    """Every point of ``db`` has both vectors, once; the new vectors are the artifacts' shot embeddings."""
    layout = DataLayout(data)
    catalog = VideoCatalog(data).videos(db)
    store = open_store(data)
    try:
        points = list(store.scroll(db, with_vectors=True))
        assert len(points) == store.count(db) == sum(v.n_shots for v in catalog.values())
        assert len({p.id for p in points}) == len(points)
        for point in points:
            assert set(point.vectors) == {L14, SIGLIP}
            video, shot = point.payload["video_id"], point.payload["shot_index"]
            ingested = catalog[video].encoder  # the other vector was added by reindex, over these shots
            for name in (L14, SIGLIP):
                folder = name if name == ingested else f"{name}--from-{ingested}"
                expected = layout.load_segmentation(video, folder).shot_embeddings[shot]
                np.testing.assert_allclose(point.vectors[name], expected, atol=1e-6)
        records = stored_encoders(store, db)
        assert {r.model for r in records.values()} == {"ViT-L-14/openai", "ViT-B-16-SigLIP2/webli"}
        assert all(r.recorded for r in records.values())
        return len(points)
    finally:
        store.close()


@pytest.mark.slow
def test_an_english_index_searched_in_spanish_then_reindexed_with_the_multilingual_default(env, tmp_path, capsys,
                                                                                          slideshow):
    code, _, err = _run(capsys, "ingest", str(slideshow), "--db", "legacy", "--clip-model", "ViT-L-14/openai")
    assert code == 0, err

    # no --clip-model: the database's own model (ViT-L-14/openai) is used, not the default
    code, out, err = _run(capsys, "search", "--db", "legacy", "--text", "botellas con productos químicos")
    assert code == 0 and "encoder ViT-L-14/openai, query encoder mclip" in err and out.strip()
    from models.translate import ApertiumTranslator

    if ApertiumTranslator.available():
        code, _, err = _run(capsys, "search", "--db", "legacy", "--text", "botellas con productos químicos",
                            "--query-encoder", "translate")
        assert code == 0 and "query translated to: Bottles with chemical products" in err

    code, out, err = _run(capsys, "reindex", "--db", "legacy", "--model", "siglip2-b16")
    assert code == 0 and "1 videos re-indexed" in err and SIGLIP in err and L14 in err
    code, _, err = _run(capsys, "search", "--db", "legacy", "--text", "un gato", "--json")
    assert code == 0 and "encoder ViT-B-16-SigLIP2/webli (its own text tower: multilingual" in err
    code, _, err = _run(capsys, "search", "--db", "legacy", "--text", "un gato", "--clip-model", "ViT-L-14/openai",
                        "--query-encoder", "native")
    assert code == 0 and "encoder ViT-L-14/openai (its own text tower: asked for)" in err

    # --compare: the default encoder's text vs text+translation, the other encoder, its query encoders
    log = tmp_path / "log.txt"
    log.write_text("slideshow.mp4 00:00:00.000 - 00:00:02.000 UN ASTRONAUTA (AN ASTRONAUT)\n", encoding="utf-8")
    code, out, err = _run(capsys, "evaluate", str(log), "--db", "legacy", "--compare", "--json", "--ks", "1,2")
    assert code == 0, err
    configs = {c["name"]: c for c in json.loads(out)["configs"]}
    expected = ["text", "text+translation", "clip-l14", "clip-l14-mclip"]
    assert list(configs)[:4] == expected and configs["clip-l14"]["vector_name"] == L14
    assert configs["text"]["vector_name"] == SIGLIP and "M-CLIP" in configs["clip-l14-mclip"]["query_encoder_ran"]
    assert ("clip-l14-translate" in configs) == ApertiumTranslator.available()

    # a new video gets every encoder the database holds
    [second] = _videos(tmp_path / "more", 1)
    code, _, err = _run(capsys, "ingest", str(second), "--db", "legacy")
    assert code == 0 and "other encoders' vectors: v0.mp4" in err
    assert _check_both_vectors(env, "legacy") >= 2


def test_other_weights_under_the_same_name_are_refused(env, tmp_path, capsys, slideshow, tiny_clip_dir):
    code, _, err = _run(capsys, "ingest", str(slideshow), "--db", "archivo", "--clip-model", "ViT-L-14/openai")
    assert code == 0, err
    impostor = _as_spec(tiny_clip_dir, tmp_path / "impostor", "ViT-L-14/openai")
    import torch

    state = torch.load(impostor / "open_clip_pytorch_model.bin", weights_only=True)
    torch.save({k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()},
               impostor / "open_clip_pytorch_model.bin")
    # (with the auto query encoder, M-CLIP would answer a text query without the image model at all)
    code, out, err = _run(capsys, "search", "--db", "archivo", "--text", "un gato", "--clip-model",
                          f"local-dir:{impostor}", "--query-encoder", "native")
    assert code == 1 and not out and err.count("\n") == 1
    assert "refused rather than answered in the wrong space" in err and "clip-vit-l-14-openai" in err


@pytest.mark.slow
def test_a_reindex_killed_mid_way_resumes_without_duplicates(env, tmp_path, capsys, models_dir):
    videos = _videos(tmp_path / "videos", 3)
    code, _, err = _run(capsys, "ingest", *map(str, videos), "--db", "archivo", "--clip-model", "ViT-L-14/openai")
    assert code == 0, err
    proc = subprocess.Popen([sys.executable, "-m", "app", "reindex", "--db", "archivo", "--model", "siglip2-b16"],
                            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # printed once the first video's points are flushed
        assert first.startswith("ok "), first + proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=120)
        proc.stdout.close()
        proc.stderr.close()
    code, out, err = _run(capsys, "reindex", "--db", "archivo", "--model", "siglip2-b16")
    assert code == 0, err
    assert "already has the vectors" in out  # the first video was not done again
    assert _check_both_vectors(env, "archivo") == sum(v.n_shots for v in VideoCatalog(env).videos("archivo").values())


@pytest.mark.slow
@pytest.mark.parametrize("network", ["hub disabled", "no route"])
def test_a_model_that_cannot_be_had_fails_once_in_one_line(network, tmp_path, slideshow):
    """Cold caches and no models folder: the default encoder cannot be had. The ingest of two
    videos stops before its loop, with one line naming the model, the cause and both ways out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUSCA_", "HF_"))}
    env.update(BUSCA_DATA_DIR=str(tmp_path / "data"), BUSCA_DEVICE="cpu", HF_HOME=str(tmp_path / "hf"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    if network == "hub disabled":
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env["HF_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"  # a real request, refused: nothing listens
    done = subprocess.run([sys.executable, "-m", "app", "ingest", str(slideshow), str(slideshow), "--db", "archivo"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "model 'ViT-B-16-SigLIP2/webli' is not available" in lines[0]
    assert ("HF_HUB_OFFLINE=1" if network == "hub disabled" else "cannot be reached") in lines[0]
    assert "python -m app models download ViT-B-16-SigLIP2/webli" in lines[0] and "local-dir:" in lines[0]
    assert not (tmp_path / "data" / "videos").exists()  # nothing was decoded


def test_models_lists_the_catalogue(capsys):
    code, out, _ = _run(capsys, "models", "--json")
    catalogue = json.loads(out)
    default = [e for e in catalogue["encoders"] if e["default"]]
    assert code == 0 and [e["spec"] for e in default] == ["ViT-B-16-SigLIP2/webli"]
    assert {"ViT-L-14/openai", "ViT-B-32-SigLIP2-256/webli"} <= {e["spec"] for e in catalogue["encoders"]}
    assert all(e["es_recall"] and e["source"] and e["licence"] for e in catalogue["encoders"])
    code, out, _ = _run(capsys, "models")
    assert code == 0 and "siglip2-b16" in out and "M-CLIP/XLM-Roberta-Large-Vit-L-14" in out and "Immich" in out
