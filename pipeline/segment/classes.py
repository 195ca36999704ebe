"""Steps (a) and (b) of the segmentation: semantic classes, then scenes on the timeline.

Pure numpy + scikit-learn + hdbscan. :func:`pipeline.segment.segment` is the entry point;
the options and the reasoning behind their defaults are documented in :mod:`pipeline.segment.options`.

- :func:`reduce_embeddings` — PCA (default), UMAP or nothing before clustering.
- :func:`cluster_frames` — HDBSCAN over the reduced frames, ignoring time (raw labels, -1 = noise).
- :func:`merge_similar_clusters` — joins clusters that are alike (one setting, many long shots).
- :func:`resolve_noise` — gives every noise frame a class (most similar class, else a class found
  among the left-over noise frames themselves, else temporal neighbour).
- :func:`smooth_classes` — class diarization: runs shorter than ``min_scene_s`` are absorbed.
- :func:`runs` / :func:`renumber_by_first_appearance` — small helpers on label sequences.
"""

from __future__ import annotations

import heapq
import logging
import math

import numpy as np

from pipeline.errors import ConfigError
from pipeline.segment.options import SegmentOptions
from pipeline.segment.scale import VideoScale

log = logging.getLogger(__name__)

#: Rows per block when a product over all frames would otherwise need O(N·C) or O(N·D) temporaries.
CHUNK = 8192
#: Frames whose reduced coordinates all lie within this range are identical (float32 rounding
#: of unit vectors is ~1e-7); HDBSCAN would only cluster rounding noise.
IDENTICAL_SPREAD = 1e-5
#: Below this many points UMAP's neighbour graph is meaningless; PCA is used instead.
UMAP_MIN_POINTS = 16
#: Most left-over noise frames compared pairwise by :func:`classes_among_noise` (its average
#: linkage holds M x M matrices: ~60 MB at 2,000 frames); more are strided to this many.
NOISE_LINKAGE_MAX = 2000


def runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal runs of equal values: ``(starts, ends)``, half-open frame indices."""
    n = len(labels)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [n]]).astype(np.int64)
    return starts, ends


def renumber_by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Map non-negative labels to 0..C-1 in order of first appearance on the timeline."""
    values, first = np.unique(labels, return_index=True)
    order = values[np.argsort(first, kind="stable")]
    mapping = np.empty(values.max() + 1 if len(values) else 0, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return mapping[labels]


def reduce_embeddings(embeddings: np.ndarray, options: SegmentOptions) -> np.ndarray:
    """Project the frames to ``reduce_dims`` dimensions (float64) before HDBSCAN.

    PCA uses the covariance eigen-solver when N >= D: O(N·D²) time, O(D²) extra memory, no
    (N, D) copy, ~4x faster than sklearn's default at 32k frames. Fewer frames than dimensions
    leave the choice to sklearn ("auto"). Deterministic for a given ``random_state``.
    """
    n, dim = embeddings.shape
    dims = min(options.reduce_dims, dim)
    if options.reduce == "none" or dims >= dim:
        return np.asarray(embeddings, dtype=np.float64)
    if options.reduce == "umap" and n >= max(UMAP_MIN_POINTS, dims + 2):
        return _umap(embeddings, dims, options.random_state)
    if options.reduce == "umap":
        log.info("%d frames are too few for UMAP to %d dimensions: using PCA", n, dims)
    from sklearn.decomposition import PCA

    dims = min(dims, n)
    with np.errstate(invalid="ignore", divide="ignore"):  # identical frames: zero total variance
        solver = "covariance_eigh" if n >= dim else "auto"
        reduced = PCA(dims, svd_solver=solver, random_state=options.random_state).fit_transform(embeddings)
    return np.ascontiguousarray(reduced, dtype=np.float64)


def _umap(embeddings: np.ndarray, dims: int, random_state: int) -> np.ndarray:
    try:
        import umap
    except ImportError as err:
        raise ConfigError(
            "reduce='umap' needs the umap-learn package: pip install umap-learn==0.5.12, "
            "or use reduce='pca' (the default, faster and better for clustering)"
        ) from err
    reducer = umap.UMAP(
        n_components=dims,
        n_neighbors=min(15, len(embeddings) - 1),
        min_dist=0.0,
        metric="cosine",
        random_state=random_state,
        n_jobs=1,
    )
    return np.ascontiguousarray(reducer.fit_transform(embeddings), dtype=np.float64)


def cluster_frames(embeddings: np.ndarray, rate_hz: float, options: SegmentOptions) -> np.ndarray:
    """HDBSCAN labels for every frame (-1 = noise), ignoring time, after :func:`reduce_embeddings`.

    Above ``cluster_max_frames`` frames HDBSCAN runs on every k-th frame (k the smallest
    stride that fits) and each skipped frame takes the label of the nearer, in the reduced
    space, of its two strided neighbours. Sizes given in seconds are converted with the
    strided rate, so the clustering means the same at any stride.
    All noise when there are too few frames to form one cluster, or when they are identical.
    """
    n = len(embeddings)
    cap = options.cluster_max_frames
    stride = 1 if cap is None or n <= cap else math.ceil(n / cap)
    rate = rate_hz / stride
    min_cluster_size = max(2, math.ceil(options.min_cluster_s * rate - 1e-9))
    min_samples = max(1, min(min_cluster_size, math.ceil(options.min_samples_s * rate - 1e-9)))
    if len(range(0, n, stride)) < max(min_cluster_size, min_samples + 1):
        return np.full(n, -1, dtype=np.int64)
    reduced = reduce_embeddings(embeddings, options)
    sub = reduced[::stride]
    if np.ptp(sub, axis=0).max() <= IDENTICAL_SPREAD:
        return np.full(n, -1, dtype=np.int64)
    try:
        import hdbscan
    except ImportError as err:  # a required dependency (requirements.txt)
        raise ImportError("segmentation needs the hdbscan package: pip install hdbscan==0.8.44") from err

    labels = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        metric="euclidean",
        algorithm="boruvka_kdtree",  # O(N log N)-ish; prims_* is O(N²) time
        core_dist_n_jobs=1,  # 2 shared cores: a second job only adds contention
    ).fit_predict(sub)
    log.debug("HDBSCAN on %d of %d frames: %d clusters", len(sub), n, labels.max() + 1)
    labels = labels.astype(np.int64)
    if stride == 1:
        return labels
    return _propagate(reduced, labels, stride)


def _propagate(reduced: np.ndarray, sub_labels: np.ndarray, stride: int) -> np.ndarray:
    """Label the frames skipped by the stride from the nearer of their strided neighbours."""
    n = len(reduced)
    idx = np.arange(n)
    left = idx // stride
    right = np.minimum(left + 1, len(sub_labels) - 1)
    right_frame = right * stride
    d_left = np.einsum("ij,ij->i", reduced - reduced[left * stride], reduced - reduced[left * stride])
    d_right = np.einsum("ij,ij->i", reduced - reduced[right_frame], reduced - reduced[right_frame])
    pick = np.where(d_right < d_left, right, left)
    return sub_labels[pick]


def merge_similar_clusters(
    embeddings: np.ndarray, raw: np.ndarray, min_similarity: float | None, scale: VideoScale | None = None
) -> np.ndarray:
    """Join HDBSCAN clusters that are at least ``min_similarity`` alike.

    HDBSCAN prefers one cluster per long shot when shots outlast ``min_cluster_s``; shots of
    one setting are still far more alike than other settings are. Average linkage over the
    (few) clusters, so a chain of pairwise-close clusters does not merge everything. Without
    ``scale`` (absolute thresholds) two clusters are as alike as the cosine of their normalised
    centroids; with it, as the mean cosine between their frames, on the video's scale
    (:meth:`VideoScale.z`). Noise stays -1; None leaves the clusters as they are.
    """
    n_clusters = int(raw.max()) + 1 if len(raw) else 0
    if min_similarity is None or n_clusters < 2:
        return raw
    from scipy.cluster.hierarchy import fcluster, linkage

    if scale is None:
        centroids = class_centroids(embeddings, raw, n_clusters).astype(np.float64)
        tree = linkage(centroids, method="average", metric="cosine")
    else:
        sums, counts = class_sums(embeddings, raw, n_clusters)
        similarity = scale.z((sums @ sums.T) / np.outer(counts, counts))
        distance = np.maximum(1.0 - similarity, 0.0)
        tree = linkage(distance[np.triu_indices(n_clusters, k=1)], method="average")
    groups = fcluster(tree, t=1.0 - min_similarity, criterion="distance") - 1
    return np.where(raw >= 0, groups[np.maximum(raw, 0)], -1).astype(np.int64)


def class_sums(embeddings: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the embeddings (float64) and number of frames of each label 0..n_classes-1; -1 is ignored."""
    from scipy.sparse import csr_matrix

    keep = np.flatnonzero(labels >= 0)
    onehot = csr_matrix((np.ones(len(keep), dtype=np.float32), (labels[keep], keep)), shape=(n_classes, len(labels)))
    sums = np.asarray(onehot @ embeddings, dtype=np.float64)  # no (N, D) temporary
    counts = np.bincount(labels[keep], minlength=n_classes).astype(np.float64)
    return sums, counts


def class_centroids(embeddings: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """L2-normalised mean embedding (float32, full space) of each label 0..n_classes-1; -1 is ignored."""
    sums, _ = class_sums(embeddings, labels, n_classes)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def resolve_noise(
    embeddings: np.ndarray, raw: np.ndarray, timestamps: np.ndarray, min_similarity: float,
    scale: VideoScale | None = None, min_class_frames: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Give every frame a class; return ``(classes, centroids)``, one centroid per class.

    A noise frame joins the class it is most similar to, if that similarity is at least
    ``min_similarity``: without ``scale``, the cosine to the class centroid (normalised mean
    of its clustered frames, in the full embedding space); with it, the frame's mean cosine to
    the class's frames on the video's scale. With ``scale`` and ``min_class_frames``, the noise
    frames that no class took may then form new classes of their own
    (:func:`classes_among_noise`), numbered after HDBSCAN's. Frames still unassigned take the
    class of the nearest assigned frame in time (the earlier one on a tie). When HDBSCAN found
    no cluster at all, every frame is class 0.
    """
    n_clusters = int(raw.max()) + 1 if len(raw) else 0
    if n_clusters <= 0:
        return np.zeros(len(raw), dtype=np.int64), class_centroids(embeddings, np.zeros(len(raw), np.int64), 1)
    centroids = class_centroids(embeddings, raw, n_clusters)
    if scale is None:
        references = centroids
    else:
        sums, counts = class_sums(embeddings, raw, n_clusters)
        references = (sums / counts[:, None]).astype(np.float32)  # frame · mean = mean cosine to the frames
    classes = raw.copy()
    noise = np.flatnonzero(raw < 0)
    for lo in range(0, len(noise), CHUNK):
        idx = noise[lo : lo + CHUNK]
        sims = embeddings[idx] @ references.T
        if scale is not None:
            sims = scale.z(sims)
        best = np.argmax(sims, axis=1)
        close = sims[np.arange(len(idx)), best] >= min_similarity
        classes[idx[close]] = best[close]
    left_over = np.flatnonzero(classes < 0)
    if scale is not None and min_class_frames is not None and len(left_over) >= min_class_frames:
        found = classes_among_noise(embeddings, left_over, scale, min_similarity, min_class_frames)
        if found.max() >= 0:
            classes[left_over[found >= 0]] = n_clusters + found[found >= 0]
            labels = np.full(len(raw), -1, dtype=np.int64)
            labels[left_over] = found
            new = class_centroids(embeddings, labels, int(found.max()) + 1)
            centroids = np.vstack([centroids, new])
            left_over = left_over[found < 0]
    if len(left_over):
        assigned = np.flatnonzero(classes >= 0)
        pos = np.searchsorted(assigned, left_over)
        before = assigned[np.maximum(pos - 1, 0)]
        after = assigned[np.minimum(pos, len(assigned) - 1)]
        gap_before = np.where(pos > 0, timestamps[left_over] - timestamps[before], np.inf)
        gap_after = np.where(pos < len(assigned), timestamps[after] - timestamps[left_over], np.inf)
        classes[left_over] = classes[np.where(gap_after < gap_before, after, before)]
    return classes, centroids


def classes_among_noise(
    embeddings: np.ndarray, left_over: np.ndarray, scale: VideoScale, min_similarity: float, min_frames: int
) -> np.ndarray:
    """New classes among the noise frames ``left_over`` that no class took: ``(len(left_over),)``
    labels 0..K-1, -1 for a frame left without one.

    HDBSCAN keeps a group of frames as a cluster only if it stays connected while it comes off
    the rest; a setting that barely fills ``min_cluster_s``, filmed in a few short shots, can
    instead come off one shot at a time, each below the minimum size, and all of it is noise.
    Whether it does depends on the density of the reduced frames, which a non-linear similarity
    scale changes (``bench/segment.py``). Here the left-over frames are grouped by average
    linkage on their cosines on the video's scale, cut where a group's frames are on average
    less than ``min_similarity`` alike (the same rule as a noise frame joining a class); every
    left-over frame then joins the group it is most alike on average, if at least
    ``min_similarity``, and a group that ends with fewer than ``min_frames`` frames (less
    footage than ``min_cluster_s``) is dropped. So a class is the same thing on any scale: frames
    alike on the video's scale, filling ``min_cluster_s``. Above :data:`NOISE_LINKAGE_MAX`
    left-over frames the linkage runs on every k-th one. Deterministic.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    out = np.full(len(left_over), -1, dtype=np.int64)
    sample = left_over[:: math.ceil(len(left_over) / NOISE_LINKAGE_MAX)]
    x = embeddings[sample]
    distance = scale.z(x @ x.T)  # float64 M x M, turned into distances in place
    np.maximum(np.subtract(1.0, distance, out=distance), 0.0, out=distance)
    groups = fcluster(linkage(squareform(distance, checks=False), method="average"),
                      t=1.0 - min_similarity, criterion="distance") - 1
    stride = len(left_over) / len(sample)
    labels = np.full(len(embeddings), -1, dtype=np.int64)
    labels[sample] = groups
    sums, counts = class_sums(embeddings, labels, int(groups.max()) + 1)
    kept = np.flatnonzero(counts * stride >= min_frames)
    if not len(kept):
        return out
    references = (sums[kept] / counts[kept, None]).astype(np.float32)
    for lo in range(0, len(left_over), CHUNK):
        idx = slice(lo, lo + CHUNK)
        sims = scale.z(embeddings[left_over[idx]] @ references.T)
        best = np.argmax(sims, axis=1)
        out[idx] = np.where(sims[np.arange(len(best)), best] >= min_similarity, best, -1)
    sizes = np.bincount(out[out >= 0], minlength=len(kept))
    big = sizes >= min_frames
    renumber = np.where(big, np.cumsum(big) - 1, -1)
    return np.where(out >= 0, renumber[np.maximum(out, 0)], -1)


def smooth_classes(
    classes: np.ndarray,
    bounds_s: np.ndarray,
    embeddings: np.ndarray,
    centroids: np.ndarray,
    min_scene_s: float,
    tol_s: float,
) -> np.ndarray:
    """Class diarization: absorb runs shorter than ``min_scene_s`` into a neighbouring run.

    ``bounds_s`` (N+1,) gives each frame's start time and the end of the last one. The shortest
    short run goes first. It joins its neighbours when both have the same class (a flicker
    A-B-A becomes A); otherwise the neighbour whose class centroid is more similar to the run's
    mean embedding (then the longer, then the earlier one). Same-class runs that meet are merged,
    and a merged run still too short is considered again. O(R log R) for R runs.
    """
    starts, ends = runs(classes)
    cls = classes[starts].copy()
    count = len(starts)
    prev, nxt = np.arange(count) - 1, np.arange(count) + 1
    nxt[-1] = -1
    alive = np.ones(count, dtype=bool)

    def duration(r: int) -> float:
        return float(bounds_s[ends[r]] - bounds_s[starts[r]])

    def absorb(r: int, into: int) -> None:
        if into == prev[r]:
            ends[into], nxt[into] = ends[r], nxt[r]
            if nxt[r] >= 0:
                prev[nxt[r]] = into
        else:
            starts[into], prev[into] = starts[r], prev[r]
            if prev[r] >= 0:
                nxt[prev[r]] = into
        alive[r] = False

    heap = [(duration(r), int(starts[r]), r) for r in range(count) if duration(r) < min_scene_s - tol_s]
    heapq.heapify(heap)
    while heap:
        dur, _, r = heapq.heappop(heap)
        if not alive[r] or dur != duration(r) or (prev[r] < 0 and nxt[r] < 0):
            continue
        target = _merge_target(r, prev, nxt, cls, starts, ends, embeddings, centroids, duration)
        absorb(r, target)
        for other in (prev[target], nxt[target]):
            if other >= 0 and cls[other] == cls[target]:
                absorb(other, target)
        if duration(target) < min_scene_s - tol_s:
            heapq.heappush(heap, (duration(target), int(starts[target]), target))
    keep = np.flatnonzero(alive)
    return np.repeat(cls[keep], ends[keep] - starts[keep])


def _merge_target(r, prev, nxt, cls, starts, ends, embeddings, centroids, duration) -> int:
    """The neighbour run that short run ``r`` joins (see :func:`smooth_classes`)."""
    p, q = int(prev[r]), int(nxt[r])
    if p < 0 or q < 0 or cls[p] == cls[q]:
        return p if p >= 0 else q
    mean = embeddings[starts[r] : ends[r]].sum(axis=0, dtype=np.float64)
    sim_p, sim_q = float(mean @ centroids[cls[p]]), float(mean @ centroids[cls[q]])
    if sim_p != sim_q:
        return p if sim_p > sim_q else q
    return q if duration(q) > duration(p) else p
