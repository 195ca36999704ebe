"""2-D maps of frames or shots for the Explore tab: UMAP (cosine) or PCA, pure numpy + umap-learn."""

from __future__ import annotations

import logging

import numpy as np

from pipeline.errors import ConfigError
from pipeline.segment import UMAP_MIN_POINTS

log = logging.getLogger(__name__)

PROJECTIONS = ("umap", "pca")


def project_2d(embeddings: np.ndarray, method: str = "umap", random_state: int = 0) -> np.ndarray:
    """(N, 2) float32 coordinates for the UI's semantic map of shots or frames.

    ``method`` "umap" (cosine metric, 15 neighbours) or "pca". Falls back to PCA, with a log
    message, when umap-learn is not installed or there are fewer than 16 points; a single point
    (or identical points) maps to the origin. Deterministic for a given ``random_state``.
    UMAP takes ~1 min for 30k points on 2 cores: pass shot embeddings rather than frames.
    """
    if method not in PROJECTIONS:
        raise ConfigError(f"project_2d method must be one of {', '.join(PROJECTIONS)}; got {method!r}")
    data = np.asarray(embeddings, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"embeddings must be (N, D); got shape {data.shape}")
    if method == "umap" and len(data) >= UMAP_MIN_POINTS:
        try:
            import umap
        except ImportError:
            log.warning("umap-learn is not installed (pip install umap-learn==0.5.12): using PCA for the 2-D map")
        else:
            reducer = umap.UMAP(n_components=2, n_neighbors=15, metric="cosine", random_state=random_state, n_jobs=1)
            return np.asarray(reducer.fit_transform(data), dtype=np.float32)
    elif method == "umap":
        log.info("%d points are too few for UMAP: using PCA for the 2-D map", len(data))
    return _pca_2d(data)


def _pca_2d(data: np.ndarray) -> np.ndarray:
    """First two principal coordinates (zero where there is no variance), signs fixed."""
    out = np.zeros((len(data), 2), dtype=np.float32)
    k = min(2, *data.shape)
    if len(data) < 2 or k == 0:
        return out
    centred = (data - data.mean(axis=0, dtype=np.float64)).astype(np.float64)
    if len(data) <= data.shape[1]:  # few points: SVD of (N, D)
        _, singular, rows = np.linalg.svd(centred, full_matrices=False)
        variances, top = singular[:k] ** 2, rows[:k].T
    else:  # many points: eigen-decomposition of the (D, D) scatter matrix, nothing (N, N)
        values, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(values)[::-1][:k]
        variances, top = values[order], vectors[:, order]
    signs = np.sign(top[np.abs(top).argmax(axis=0), np.arange(k)])
    coords = centred @ (top * np.where(signs == 0, 1.0, signs))
    out[:, :k] = np.where(variances > 1e-10 * len(data), coords, 0.0)
    return out
