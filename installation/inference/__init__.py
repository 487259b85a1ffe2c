"""ONNX model wrappers and the contracts that exported models must satisfy."""
