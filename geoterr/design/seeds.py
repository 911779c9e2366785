"""Starting centers (weighted k-means) and center updates."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

__all__ = ["kmeans_centers", "update_centers"]


def kmeans_centers(
    xy: np.ndarray, weight: np.ndarray, k: int, random_state: int | None
) -> np.ndarray:
    """Weighted k-means centers of the units, shape (k, 2), with scikit-learn.

    Units at the same place are merged by the caller, so there are at least ``k`` distinct
    points whenever ``k <= n``.
    """
    model = KMeans(n_clusters=k, n_init=4, random_state=random_state)
    model.fit(xy, sample_weight=weight)
    return np.asarray(model.cluster_centers_, dtype=float)


def update_centers(
    xy: np.ndarray, weight: np.ndarray, labels: np.ndarray, centers: np.ndarray, *, inertia: bool
) -> np.ndarray:
    """Move each center to the best point for its territory.

    With ``inertia`` that is the weighted centroid; otherwise the weighted geometric median,
    found by a few Weiszfeld steps from the centroid.
    """
    new = centers.copy()
    for j in range(len(centers)):
        members = labels == j
        if not members.any():
            continue
        pts = xy[members]
        w = weight[members]
        c = np.average(pts, axis=0, weights=w)
        if not inertia:
            for _ in range(30):
                d = np.maximum(np.linalg.norm(pts - c, axis=1), 1e-6)
                step = np.average(pts, axis=0, weights=w / d)
                if np.linalg.norm(step - c) < 1.0:  # one metre
                    c = step
                    break
                c = step
        new[j] = c
    return new
