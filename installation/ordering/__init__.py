"""Ordering a collection: features -> kNN graph -> GNN embedding -> open path / grid layout (cached by hash).

Nothing here imports torch at import time: only the GNN step does, when it runs.
"""

from installation.ordering.pipeline import (
    LAYOUTS,
    METHODS,
    OPENINGS,
    OrderFileError,
    OrderResult,
    PreparedOrder,
    compute_order,
    default_order_path,
    find_order,
    order_features,
    prepare_order,
    read_order,
    write_order,
)

__all__ = ["LAYOUTS", "METHODS", "OPENINGS", "OrderFileError", "OrderResult", "PreparedOrder", "compute_order",
           "default_order_path", "find_order", "order_features", "prepare_order", "read_order", "write_order"]
