"""The GNN step: GraphSAGE (mean aggregation) trained on the collection's own kNN graph by link prediction.

torch is imported here, inside the function: the runtime never imports it at module level.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GnnConfig:
    k: int = 10
    hidden_dim: int = 64
    out_dim: int = 32
    layers: int = 2
    steps: int = 100
    lr: float = 0.01
    seed: int = 0
    mix: float = 0.5  # weight of the (unit-rms) GNN embedding next to the (unit-rms) input features

    def key(self) -> dict:
        return asdict(self)


def torch_available() -> bool:
    """Whether torch is installed, without importing it: validating a show (also in the kiosk supervisor,
    at every edit) must not load 250 MB of torch just to name the method in a cache key."""
    return importlib.util.find_spec("torch") is not None


def gnn_embedding(x: np.ndarray, config: GnnConfig | None = None) -> np.ndarray:
    """Node embeddings (N, out_dim) of the features ``x`` (N, D). Deterministic for a seed; one CPU thread."""
    import torch

    from installation.ordering.graph import knn_edges
    from installation.ordering.sage import GraphSAGE, GraphSAGEConfig, train_link_prediction

    config = config or GnnConfig()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(config.seed)
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
        edges = knn_edges(xt, config.k)
        model = GraphSAGE(GraphSAGEConfig(in_dim=xt.shape[1], hidden_dim=config.hidden_dim, out_dim=config.out_dim,
                                          layers=config.layers))
        losses = train_link_prediction(model, xt, edges, steps=config.steps, lr=config.lr, seed=config.seed)
        log.debug("GNN link-prediction loss %.4f -> %.4f", losses[0], losses[-1])
        with torch.no_grad():
            z = model(xt, edges).numpy().astype(np.float64)
    finally:
        torch.set_num_threads(threads)
    return z


def unit_rms(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(0, keepdims=True)
    return x / max(float(np.sqrt((x**2).sum(1).mean())), 1e-12)


def gnn_space(x: np.ndarray, config: GnnConfig | None = None) -> np.ndarray:
    """The space the ``gnn`` order is decoded in: input features next to their GNN embedding."""
    config = config or GnnConfig()
    z = gnn_embedding(x, config)
    return np.concatenate([unit_rms(x), config.mix * unit_rms(z)], axis=1)
