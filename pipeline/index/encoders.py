"""Which model and which weights made each named vector of a database, and the refusal to mix spaces.

A database (one collection) holds one named vector per encoder. Its metadata
(:meth:`pipeline.store.VectorStore.metadata`) records, per vector::

    {"encoders": {"clip-vit-b-16-siglip2-webli": {"model": "ViT-B-16-SigLIP2/webli",
                  "weights": "blake2b:...", "dim": 768, "library": "open_clip", "recorded_at": "..."}}}

``weights`` is a fingerprint of the checkpoint file (:func:`models.hub.weights_fingerprint`).
Databases made before these records existed have vectors without one: they are reported as
``unrecorded`` and keep working (the vector name still names the model), and the next ingest or
re-index with that encoder records it.

A query or an ingest whose encoder does not match the stored vectors is refused with a message
that says what the database holds and what to do, never answered in another model's space.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from pipeline.core import vector_name_for
from pipeline.errors import QueryError
from pipeline.store import VectorStore

ENCODERS_KEY = "encoders"
UNRECORDED = "unrecorded"
#: ``weights`` of a query encoder that fits any checkpoint of its model (M-CLIP maps into the
#: OpenAI ViT-L-14 space, whatever copy of those weights made the vectors).
ANY_WEIGHTS = "any"


@dataclass(frozen=True)
class EncoderRecord:
    """What made one named vector: ``model`` (a spec; ``""`` when unknown), ``weights``."""

    vector_name: str
    model: str
    weights: str
    dim: int
    library: str = ""
    recorded_at: str = ""

    @property
    def recorded(self) -> bool:
        return self.weights != UNRECORDED

    def describe(self) -> str:
        model = self.model or "an unrecorded model"
        return f"{self.vector_name} ({model}, {self.dim}-d{'' if self.recorded else ', weights unrecorded'})"

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("vector_name")
        return data


def identity_of(encoder) -> dict:
    """``{"model", "weights", "dim"}`` of an encoder; fakes without ``identity()`` are unrecorded."""
    identity = getattr(encoder, "identity", None)
    if callable(identity):
        return dict(identity())
    return {"model": getattr(encoder, "name", ""), "weights": UNRECORDED, "dim": int(getattr(encoder, "dim", 0))}


def stored_encoders(store: VectorStore, db: str, known_specs: Iterable[str] = ()) -> dict[str, EncoderRecord]:
    """Every named vector of ``db`` with its record; an unrecorded vector's model is guessed from
    ``known_specs`` (the vector name is derived from the spec) or left ``""``."""
    vectors = store.vector_names(db)
    raw = store.metadata(db).get(ENCODERS_KEY) or {}
    by_vector = {vector_name_for(spec): spec for spec in known_specs}
    records = {}
    for name, dim in sorted(vectors.items()):
        entry = raw.get(name)
        if isinstance(entry, dict) and entry.get("weights"):
            records[name] = EncoderRecord(name, str(entry.get("model", "")), str(entry["weights"]), int(dim),
                                          str(entry.get("library", "")), str(entry.get("recorded_at", "")))
        else:
            records[name] = EncoderRecord(name, by_vector.get(name, ""), UNRECORDED, int(dim))
    return records


def _held(records: dict[str, EncoderRecord]) -> str:
    return "; ".join(r.describe() for r in records.values()) or "no vectors at all"


def check_encoder(store: VectorStore, db: str, encoder) -> EncoderRecord:
    """The record of ``encoder.vector_name`` in ``db``, after checking that ``encoder`` makes
    vectors in that space; :class:`QueryError` otherwise (the message names both sides)."""
    records = stored_encoders(store, db)
    record = records.get(encoder.vector_name)
    if record is None:
        raise QueryError(code="query.encoder_missing", db=db, model=encoder.name, vector=encoder.vector_name,
                         held=_held(records))
    mine = identity_of(encoder)
    if not record.recorded or mine.get("weights") == UNRECORDED:
        return record
    if mine.get("weights") == ANY_WEIGHTS:
        if record.model and mine.get("model") and record.model != mine["model"]:
            raise QueryError(code="query.encoder_space", db=db, vector=record.vector_name, made_by=record.model,
                             model=encoder.name, space=mine["model"])
        return record
    if mine.get("weights") != record.weights:
        raise QueryError(code="query.encoder_weights", db=db, vector=record.vector_name,
                         made_by=record.model or "another model", weights=record.weights, model=encoder.name,
                         mine=mine.get("weights"))
    return record


def record_encoder(store: VectorStore, db: str, encoder, dim: int | None = None) -> EncoderRecord:
    """Create ``db``'s vector for ``encoder`` if missing and record which model and weights make it.

    An existing, recorded vector must match (:func:`check_encoder`); an unrecorded one (a database
    made before records existed) is recorded now."""
    mine = identity_of(encoder)
    dim = int(dim or mine.get("dim") or encoder.dim)
    if store.has_collection(db) and encoder.vector_name in store.vector_names(db):
        existing = check_encoder(store, db, encoder)
        if existing.recorded or mine.get("weights") == UNRECORDED:
            return existing
    store.ensure_collection(db, {encoder.vector_name: dim})
    record = EncoderRecord(encoder.vector_name, str(mine.get("model") or encoder.name), str(mine["weights"]), dim,
                           str(mine.get("library", "")), datetime.now(UTC).isoformat(timespec="seconds"))
    if record.weights == UNRECORDED:
        return record
    current = dict(store.metadata(db).get(ENCODERS_KEY) or {})
    current[encoder.vector_name] = record.to_json()
    store.update_metadata(db, {ENCODERS_KEY: current})
    return record
