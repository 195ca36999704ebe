"""The encoder families through the code paths real checkpoints take: ``local-dir:``, the models
folder, files gathered from a hub, ``from_pretrained`` for tokenizers; fast text queries.

Tiny random-weight models (testkit) prove wiring, shapes and equalities between code paths,
never retrieval quality.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.clip import ClipOptions, OpenClipEncoder
from models.clip_files import describe, gather, resolve_source
from models.hub import folder_name, model_folder, weights_fingerprint
from pipeline.errors import ModelError

QUERIES = ["botellas con productos químicos en un laboratorio", "un gato", "a rocket takes off at dawn"]


def encoder(spec: str, **options) -> OpenClipEncoder:
    return OpenClipEncoder(ClipOptions(model=spec, device="cpu", **options))


def test_a_causal_text_tower_over_the_real_tokens_gives_the_full_context_vector(tiny_clip_dir):
    """Issue 17: CLIP's text tower is causal and pools at the end-of-text token, so running it over
    the real tokens only must give exactly the vector of the 77-token run."""
    clip = encoder(f"local-dir:{tiny_clip_dir}", text_runtime="torch")
    assert clip.text_path == "truncated"
    fast, full = clip.encode_texts(QUERIES), clip.encode_texts_full_context(QUERIES)
    np.testing.assert_allclose(fast, full, atol=1e-5)
    assert np.abs(fast - full).max() < 1e-5 and not np.allclose(fast[0], fast[1])


@pytest.mark.parametrize("family", ["clip", "siglip2"])
def test_the_onnx_runtime_text_tower_gives_the_torch_vector(family, tiny_clip_dir, tiny_siglip2_dir, tmp_path):
    folder = tiny_clip_dir if family == "clip" else tiny_siglip2_dir
    onnx = encoder(f"local-dir:{folder}", text_runtime="onnx", cache_dir=str(tmp_path))
    torch_path = encoder(f"local-dir:{folder}", text_runtime="torch")
    assert onnx.text_path.endswith("+onnx")
    long_query = " ".join(["botellas con productos químicos"] * 6)  # past the 16-token bucket
    texts = [*QUERIES, long_query]
    np.testing.assert_allclose(onnx.encode_texts(texts), torch_path.encode_texts_full_context(texts), atol=2e-5)
    assert list(tmp_path.rglob("*.onnx")), "the exported graph is cached on disk"


def test_a_siglip2_shaped_model_takes_tokenizer_context_image_size_and_preprocessing_from_itself(tiny_siglip2_dir):
    siglip = encoder(f"local-dir:{tiny_siglip2_dir}", text_runtime="torch")
    info = siglip.info()
    assert info["context_length"] == 64 and info["image_size"] == 256 and info["text_path"] == "full-context"
    assert info["preprocess"]["resize_mode"] == "squash" and info["preprocess"]["mean"] == [0.5, 0.5, 0.5]
    assert info["logit_bias"] == pytest.approx(-10.0) and info["logit_scale"] == pytest.approx(10.0)
    tokens = siglip._tokenizer(["un gato"])
    assert tokens.shape == (1, 64) and int(tokens[0, -1]) == 0  # padded to its own 64-token context
    frame = np.random.default_rng(0).integers(0, 255, (90, 300, 3), dtype=np.uint8)
    assert siglip._preprocess(__import__("PIL.Image").Image.fromarray(frame)).shape == (3, 256, 256)
    vectors = siglip.encode_texts(QUERIES)
    assert vectors.shape == (3, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert siglip.weights == f"blake2b:{weights_fingerprint(tiny_siglip2_dir / 'open_clip_pytorch_model.bin')}"


def test_the_models_folder_serves_a_spec_without_any_network(tiny_siglip2_dir, tmp_path):
    models = tmp_path / "models"
    copy = model_folder(models, "clip", "ViT-B-16-SigLIP2/webli")
    shutil.copytree(tiny_siglip2_dir, copy)
    config = json.loads((copy / "open_clip_config.json").read_text())
    (copy / "open_clip_config.json").write_text(json.dumps({**config, "source": "ViT-B-16-SigLIP2/webli"}))
    loaded = encoder("ViT-B-16-SigLIP2/webli", models_dir=str(models))
    assert loaded.vector_name == "clip-vit-b-16-siglip2-webli" and loaded.dim == 768
    assert loaded.info()["loaded_from"] == f"local-dir:{copy}"
    # the folder itself, by local-dir:, makes vectors of the same model (same name, same weights)
    by_path = encoder(f"local-dir:{copy}")
    assert by_path.vector_name == loaded.vector_name and by_path.identity() == loaded.identity()
    with pytest.raises(ModelError) as missing:
        resolve_source("ViT-L-14/openai", models_dir=models)
    message = str(missing.value)
    assert "\n" not in message and "models download ViT-L-14/openai" in message and "local-dir:" in message
    assert str(models / "clip" / "ViT-L-14--openai") in message


class LocalHub:
    """A stand-in for the hub's file API over a local folder per repository (no network)."""

    def __init__(self, model: str, repos: dict[str, Path]):
        self.model, self.kind, self.repos = model, "clip", repos

    def cached(self, repo, filename):
        return None

    def fetch(self, repo, filename):
        path = self.repos[repo] / filename
        if not path.is_file():
            raise ModelError(f"{repo}/{filename} missing")
        return path

    def first(self, repo, filenames):
        for name in filenames:
            if (self.repos[repo] / name).is_file():
                return self.repos[repo] / name
        raise ModelError(f"none of {filenames} in {repo}")

    def list_files(self, repo):
        return sorted(p.name for p in self.repos[repo].iterdir())


def test_gathered_hub_files_make_a_complete_local_dir_with_the_tokenizer(tiny_siglip2_dir, tmp_path):
    """``models download`` of an ``hf-hub:`` open_clip checkpoint whose tokenizer (``hf_tokenizer_name``)
    lives in the same repository: weights, config and tokenizer files end up in one folder that
    open_clip loads offline."""
    repo = tmp_path / "hub" / "org" / "tiny"
    shutil.copytree(tiny_siglip2_dir, repo)
    config = json.loads((repo / "open_clip_config.json").read_text())
    config["model_cfg"]["text_cfg"]["hf_tokenizer_name"] = "org/tiny"
    (repo / "open_clip_config.json").write_text(json.dumps(config))
    (repo / "README.md").write_text("not needed")
    dest = tmp_path / "models" / "clip" / folder_name("hf-hub:org/tiny")
    gather("hf-hub:org/tiny", dest, LocalHub("hf-hub:org/tiny", {"org/tiny": repo}), copy=True)
    assert sorted(p.name for p in dest.iterdir()) == ["open_clip_config.json", "open_clip_pytorch_model.bin",
                                                      "tokenizer.json", "tokenizer_config.json"]
    local = encoder(f"local-dir:{dest}")
    original = encoder(f"local-dir:{tiny_siglip2_dir}")
    np.testing.assert_allclose(local.encode_texts(QUERIES), original.encode_texts(QUERIES), atol=1e-6)
    assert local.identity()["model"] == "hf-hub:org/tiny" and local.vector_name == "clip-org-tiny"


def test_a_pretrained_tag_is_described_with_its_own_preprocessing_and_quick_gelu():
    """OpenAI's checkpoints were trained with QuickGELU; open_clip 3.x only warns when the
    architecture config lacks it, so the gathered config must carry it."""
    openai_cfg, openai_pre, repo, names, tokenizer = describe("ViT-B-32/openai", LocalHub("x", {}))
    assert openai_cfg["quick_gelu"] is True and repo == "timm/vit_base_patch32_clip_224.openai"
    assert openai_pre["resize_mode"] == "shortest" and tokenizer is None
    assert names == ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
    siglip_cfg, siglip_pre, repo, _, tokenizer = describe("ViT-B-16-SigLIP2/webli", LocalHub("x", {}))
    assert not siglip_cfg.get("quick_gelu") and siglip_pre["resize_mode"] == "squash"
    assert repo == tokenizer == "timm/ViT-B-16-SigLIP2" and siglip_cfg["text_cfg"]["context_length"] == 64
    with pytest.raises(ModelError, match="no pretrained tag"):
        describe("ViT-B-32/no-such-tag", LocalHub("x", {}))


def test_catalogue_entries_are_real_open_clip_models():
    import open_clip

    from models.catalogue import DEFAULT_ENCODER, ENCODERS, QUERY_ENCODERS

    assert DEFAULT_ENCODER == "ViT-B-16-SigLIP2/webli" and {e.spec for e in ENCODERS} >= {DEFAULT_ENCODER,
                                                                                            "ViT-L-14/openai"}
    for entry in ENCODERS:
        name, tag = entry.spec.split("/")
        assert tag in open_clip.list_pretrained_tags_by_model(name), entry.spec
        assert open_clip.get_model_config(name)["embed_dim"] == entry.dim
        assert entry.es_recall and entry.en_recall and entry.source and entry.licence
    assert {q.kind for q in QUERY_ENCODERS} == {"mclip", "translate"}


# --- M-CLIP ------------------------------------------------------------------------------------------


def test_mclip_loads_the_real_checkpoint_layout_from_a_folder_and_from_the_models_folder(tiny_mclip_dir, tmp_path):
    from models.mclip import MClipTextEncoder

    direct = MClipTextEncoder(str(tiny_mclip_dir), device="cpu")
    vectors = direct.encode_texts(QUERIES)
    assert vectors.shape == (3, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert direct.vector_name == "clip-vit-l-14-openai" and direct.identity()["model"] == "ViT-L-14/openai"
    # mean pooling over the attention mask: padding added by a longer neighbour changes nothing
    alone = direct.encode_texts(["un gato"])[0]
    padded = direct.encode_texts(["un gato", " ".join(QUERIES * 3)])[0]
    np.testing.assert_allclose(alone, padded, atol=1e-5)

    models = tmp_path / "models"
    shutil.copytree(tiny_mclip_dir, model_folder(models, "mclip", "M-CLIP/XLM-Roberta-Large-Vit-L-14"))
    assert MClipTextEncoder.present(models_dir=str(models)) and not MClipTextEncoder.present(models_dir=str(tmp_path))
    from_folder = MClipTextEncoder(device="cpu", models_dir=str(models))
    np.testing.assert_allclose(from_folder.encode_texts(QUERIES), vectors, atol=1e-6)


def test_a_checkpoint_without_the_mclip_tensors_is_refused(tiny_mclip_dir, tmp_path):
    import torch

    from models.mclip import MClipTextEncoder

    broken = tmp_path / "broken"
    shutil.copytree(tiny_mclip_dir, broken)
    tensors = torch.load(broken / "pytorch_model.bin", weights_only=True)
    torch.save({k: v for k, v in tensors.items() if not k.startswith("LinearTransformation")},
               broken / "pytorch_model.bin")
    with pytest.raises(ModelError, match="not an M-CLIP checkpoint"):
        MClipTextEncoder(str(broken), device="cpu").encode_texts(["x"])


def test_scores_shown_for_a_siglip_model_are_cosine_similarities(tiny_siglip2_dir, slideshow, tmp_path):
    """SigLIP's logit scale and bias (here 10 and -10) never reach the scores: a hit's score is
    the cosine between the query vector and the shot's stored vector."""
    from pipeline.index import DataLayout, IngestOptions, ingest_paths, record_encoder
    from pipeline.media import DecodeOptions
    from pipeline.search import Query, encode_query, search
    from pipeline.store import open_store

    siglip = encoder(f"local-dir:{tiny_siglip2_dir}")
    store = open_store(tmp_path, backend="memory")
    try:
        record_encoder(store, "db", siglip)
        options = IngestOptions(decode=DecodeOptions(fps=2.0, short_side=256), progress=False)
        [result] = ingest_paths([slideshow], siglip, store, DataLayout(tmp_path), "db", options)
        assert result.status == "indexed", result.error
        query = Query(text="un astronauta", k=50)
        hits = search(store, siglip, "db", query)
        vector = encode_query(siglip, query)
        stored = {p.id: p.vectors[siglip.vector_name] for p in store.retrieve("db", [h.point_id for h in hits],
                                                                              with_vectors=True)}
        for hit in hits:
            assert hit.score == pytest.approx(float(vector @ stored[hit.point_id]), abs=1e-4)
            assert -1.0 <= hit.score <= 1.0
    finally:
        store.close()
