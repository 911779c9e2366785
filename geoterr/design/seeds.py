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


def nearest_units(xy: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distinct units nearest to each point (greedy, in order), as positions, shape (k,)."""
    chosen: list[int] = []
    taken = np.zeros(len(xy), dtype=bool)
    for p in points:
        d = np.linalg.norm(xy - p, axis=1)
        d[taken] = np.inf
        i = int(np.argmin(d))
        chosen.append(i)
        taken[i] = True
    return np.array(chosen, dtype=np.int64)


def update_medoids(
    cost_matrix: np.ndarray,
    weight: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray,
    *,
    inertia: bool,
) -> np.ndarray:
    """Move each center to the member unit with the least weighted cost to the others."""
    new = centers.copy()
    for j in range(len(centers)):
        members = np.flatnonzero(labels == j)
        if len(members) == 0:
            continue
        d = cost_matrix[np.ix_(members, members)]
        if inertia:
            d = d * d
        new[j] = members[int(np.argmin(weight[members] @ d))]
    return new
