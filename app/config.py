"""Settings from the environment, overridable by CLI flags. Nothing is read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.errors import ConfigError

#: Environment variables, their defaults, and what they mean (the README lists them too).
ENVIRONMENT = {
    "BUSCA_DATA_DIR": ("./data", "data directory: artifacts, catalog, embedded Qdrant store"),
    "BUSCA_DB": ("archivo", "default database (Qdrant collection)"),
    "BUSCA_CLIP_MODEL": ("ViT-L-14/openai", "open_clip spec: NAME/TAG, hf-hub:org/repo or local-dir:/path"),
    "BUSCA_DEVICE": ("auto", "torch device for the models: auto, cuda, mps or cpu"),
    "BUSCA_STORE": ("edge", "embedded store backend: edge (Qdrant Edge), local (qdrant-client local mode)"),
    "BUSCA_QDRANT_URL": ("", "Qdrant server or cluster URL; when set, the embedded store is not used"),
    "BUSCA_QDRANT_API_KEY": ("", "API key for the Qdrant server"),
    "BUSCA_FPS": ("2", "frames sampled per second of video"),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db: str
    clip_model: str
    device: str
    store: str
    qdrant_url: str | None
    qdrant_api_key: str | None
    fps: float

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, ENVIRONMENT[name][0]).strip()

        try:
            fps = float(get("BUSCA_FPS"))
        except ValueError as err:
            raise ConfigError(f"BUSCA_FPS must be a number, got {get('BUSCA_FPS')!r}") from err
        return cls(
            data_dir=Path(get("BUSCA_DATA_DIR")).expanduser(),
            db=get("BUSCA_DB"),
            clip_model=get("BUSCA_CLIP_MODEL"),
            device=get("BUSCA_DEVICE"),
            store=get("BUSCA_STORE"),
            qdrant_url=get("BUSCA_QDRANT_URL") or None,
            qdrant_api_key=get("BUSCA_QDRANT_API_KEY") or None,
            fps=fps,
        )

    def override(self, **changes) -> Settings:
        """Apply CLI flags that were given (``None`` means 'not given')."""
        given = {k: v for k, v in changes.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"]).expanduser()
        return replace(self, **given)
