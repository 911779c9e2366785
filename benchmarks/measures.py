"""The numbers every benchmark row reports, computed the same way for every method.

- ``compactness``: sum of w_i x distance (km) from each unit to its territory's weighted
  centroid; :func:`relative_compactness` divides it by the same sum for unconstrained weighted
  KMeans (scikit-learn), which ignores balance and contiguity (lower is better, 1.0 = as
  compact as KMeans).
- ``max_deviation``: the largest relative deviation of a territory's load from the mean.
- ``contiguous_share``: the share of territories that are connected on the unit graph.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from sklearn.cluster import KMeans


def compactness(xy: np.ndarray, weight: np.ndarray, labels: np.ndarray) -> float:
    """Sum of weight x distance (km) to the territory's weighted centroid."""
    total = 0.0
    for j in np.unique(labels):
        members = labels == j
        w = weight[members]
        centroid = np.average(xy[members], axis=0, weights=w if w.sum() > 0 else None)
        total += float(w @ np.linalg.norm(xy[members] - centroid, axis=1))
    return total / 1000.0


def kmeans_labels(xy: np.ndarray, weight: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Weighted KMeans labels (scikit-learn, the best of 10 starts: a strong reference)."""
    model = KMeans(n_clusters=k, n_init=10, random_state=seed)
    return np.asarray(model.fit_predict(xy, sample_weight=weight))


def relative_compactness(
    xy: np.ndarray, weight: np.ndarray, labels: np.ndarray, reference: float
) -> float:
    """:func:`compactness` of ``labels`` divided by ``reference`` (KMeans's)."""
    return compactness(xy, weight, labels) / reference


def max_deviation(load: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Largest |territory load / mean - 1| (territories absent from labels count as empty)."""
    totals = np.bincount(labels, weights=load, minlength=k)
    mean = load.sum() / k
    return float(np.max(np.abs(totals / mean - 1.0)))


def contiguous_share(graph: nx.Graph, ids: list, labels: np.ndarray) -> float:
    """Share of territories whose units form one connected piece of ``graph``."""
    groups: dict[int, list] = {}
    for unit, label in zip(ids, labels.tolist(), strict=True):
        groups.setdefault(label, []).append(unit)
    ok = sum(nx.is_connected(graph.subgraph(members)) for members in groups.values())
    return ok / len(groups)
