"""GraphSAGE for the model registry: the network lives in :mod:`installation.ordering.sage`, where the
runtime's ordering uses it (models build on installation's code, never the reverse)."""

from __future__ import annotations

from installation.ordering.sage import (  # noqa: F401  (re-exported)
    GraphSAGE,
    GraphSAGEConfig,
    SAGELayer,
    link_logits,
    mean_aggregate,
    train_link_prediction,
)
from models.registry import register_model


@register_model("graphsage", GraphSAGEConfig)
def graphsage(config: GraphSAGEConfig) -> GraphSAGE:
    return GraphSAGE(config)
