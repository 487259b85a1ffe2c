"""torch -> ONNX exporters: every export is checked (onnx.checker), verified against PyTorch with ONNX
Runtime at a stated tolerance, and carries its contract in ``metadata_props``."""
