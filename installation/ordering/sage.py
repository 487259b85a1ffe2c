"""GraphSAGE with mean aggregation, trained self-supervised as a graph auto-encoder (link prediction).

This module imports torch at module level, so only :mod:`installation.ordering.gnn` imports it, inside the
function that orders a collection (preparation, never the render thread); ``models.gnn`` re-exports it
for training tools and the model registry. It lives in installation so that the runtime never imports
models/ (models build on installation, not the reverse).

Used by ``installation.ordering`` to smooth each painting's features toward its kNN neighbourhood before
the path through the collection is decoded (after *Medium . Permeation*, where a GNN orders the wall).

The mean aggregation is written with ``index_add_`` rather than ``torch_geometric.nn.SAGEConv``: the two
agree (see ``tests/test_ordering_gnn.py``), but importing torch-geometric costs about 3 s on this 2-core
machine, more than the whole training, and it needs no pyg-lib/torch-scatter for this layer anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GraphSAGEConfig:
    in_dim: int = 128
    hidden_dim: int = 64
    out_dim: int = 32
    layers: int = 2
    dropout: float = 0.0


def mean_aggregate(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """For every node, the mean of ``x`` over its in-neighbours (``edge_index[0] -> edge_index[1]``); 0 if none."""
    src, dst = edge_index
    out = torch.zeros_like(x).index_add_(0, dst, x[src])
    count = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device).index_add_(
        0, dst, torch.ones_like(dst, dtype=x.dtype))
    return out / count.clamp(min=1).unsqueeze(1)


class SAGELayer(nn.Module):
    """``W_self x_i + W_neigh mean_{j in N(i)} x_j`` (the SAGEConv form with mean aggregation)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.lin_neigh = nn.Linear(cin, cout, bias=True)
        self.lin_self = nn.Linear(cin, cout, bias=False)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.lin_neigh(mean_aggregate(x, edge_index)) + self.lin_self(x)


class GraphSAGE(nn.Module):
    def __init__(self, config: GraphSAGEConfig):
        super().__init__()
        self.config = config
        dims = [config.in_dim] + [config.hidden_dim] * (config.layers - 1) + [config.out_dim]
        self.convs = nn.ModuleList(SAGELayer(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward_features(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = F.relu(x)
                x = F.dropout(x, self.config.dropout, self.training)
        return x

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x, edge_index)


class _Adam:
    """Plain Adam (Kingma & Ba, bias-corrected). torch.optim's constructor imports torch's compiler stack
    (about 3 s on a small CPU), which would dominate ordering a 196-painting collection at show load."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v / (1 - b2**self.t)).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - b1**self.t))


def link_logits(z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Inner-product decoder: one logit per node pair (2, P)."""
    return (z[pairs[0]] * z[pairs[1]]).sum(-1)


def train_link_prediction(model: GraphSAGE, x: torch.Tensor, edge_index: torch.Tensor, *, steps: int = 150,
                          lr: float = 0.01, negatives: int = 1, seed: int = 0) -> list[float]:
    """Graph auto-encoder training: kNN edges are positives, uniformly sampled node pairs negatives.

    Deterministic for a given seed (CPU). Returns the loss per step.
    """
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    opt = _Adam(list(model.parameters()), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        z = model(x, edge_index)
        neg = torch.randint(0, n, (2, edge_index.shape[1] * negatives), generator=gen)
        pos_logit, neg_logit = link_logits(z, edge_index), link_logits(z, neg)
        loss = (F.binary_cross_entropy_with_logits(pos_logit, torch.ones_like(pos_logit))
                + F.binary_cross_entropy_with_logits(neg_logit, torch.zeros_like(neg_logit)))
        model.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses
