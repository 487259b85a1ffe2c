"""kNN graph over feature vectors (``torch.cdist`` + ``topk``; torch-geometric's ``knn_graph`` needs pyg-lib)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def knn_edges(x: torch.Tensor, k: int) -> torch.Tensor:
    """Symmetric kNN edges as ``(2, E)`` long tensor: i->j and j->i for each j among i's k nearest; no self loops."""
    import torch

    n = x.shape[0]
    k = max(0, min(k, n - 1))
    if k == 0:
        return torch.empty((2, 0), dtype=torch.long)
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    nbr = d.topk(k, dim=1, largest=False).indices  # (n, k)
    src = torch.arange(n).repeat_interleave(k)
    dst = nbr.reshape(-1)
    both = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    return torch.unique(both, dim=1)  # sorted, so the result does not depend on the order of discovery
