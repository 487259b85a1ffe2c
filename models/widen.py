"""Widen a trained network without changing what it computes (Net2Net's idea, Chen et al. 2016), so a run
can continue with more capacity instead of starting again.

On these CPUs a width-16 SAGAN took 24k steps (5.5 hours) to reach its plateau; a wider one from scratch
would take tens of hours. Widening keeps everything the narrow network learned and adds channels that start
silent: every new channel is computed from random weights, but every old channel reads it through a weight of
exactly zero, so the output is unchanged until training gives the new channels a say.

The rule works on state dicts, by the shapes of the two networks, for the layer kinds our networks use:

- a weight (spectral norm's ``...original``, dims ``(out, in, ...)``): the old block kept, old outputs read
  new inputs through zeros, new outputs get small random weights (they feed only new channels);
- spectral norm's power-iteration vectors ``_u`` / ``_v``: padded with zeros, so the stored estimate of the
  largest singular value, which eval mode divides by, is exactly the old one;
- biases and batch-norm statistics: new channels start at 0 (a variance and a batch-norm gain at 1);
- the style-conditional batch norm's gains and biases (``(channels, classes)``): new rows 0;
- the weights that meet another layer's output in a dot product rather than through a weight, self-attention's
  key (with the query) and the projection discriminator's style embedding (with the features): new rows 0,
  so every product is the old one (the other side's new rows are non-zero, which gives them a gradient).

Anything else that changed shape is refused: the caller gets an error, not a silently different network.
"""

from __future__ import annotations

import torch
from torch import nn

from models.sagan import Discriminator, SelfAttention

# New outputs' weights: this fraction of the old weights' spread. Small, so that the largest singular value
# (which spectral norm divides every output by) hardly moves once training re-estimates it; the batch norm
# after each convolution gives the new channels their full scale anyway.
NEW_WEIGHT_SCALE = 0.1


class WidenError(ValueError):
    """The two networks differ in a way widening cannot bridge."""


def widen_state_dict(old: dict[str, torch.Tensor], wider: nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    """``old``'s weights laid into the shapes of the ``wider`` network (whose own values are ignored), to load
    with ``wider.load_state_dict``. The same ``seed`` gives the same new weights, so a network and its EMA copy
    widen alike."""
    new = wider.state_dict()
    gains = {f"{name}.weight" for name, m in wider.named_modules() if isinstance(m, nn.BatchNorm2d)}
    silent = {f"{name}.{layer}.parametrizations.weight.original" for name, m in wider.named_modules()
              for kind, layer in ((SelfAttention, "key"), (Discriminator, "embed")) if isinstance(m, kind)}
    if old.keys() != new.keys():
        missing, extra = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
        raise WidenError(f"the networks differ in layers, not only in width (new: {missing[:3]}, gone: {extra[:3]})")
    rng = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key, template in new.items():
        value = old[key]
        if value.shape == template.shape:
            out[key] = value.clone()
        elif any(n < o for n, o in zip(template.shape, value.shape)) or value.dim() != template.dim():
            raise WidenError(f"{key}: {tuple(value.shape)} -> {tuple(template.shape)} is not a widening")
        elif key.endswith(".original"):
            out[key] = _widen_weight(value, template.shape, rng, silent=key in silent)
        elif key.endswith("._u"):
            out[key] = _pad(value, template.shape, 0.0)
        elif key.endswith("._v"):
            in_old = old[key.replace(".0._v", ".original")].shape[1]
            in_new = new[key.replace(".0._v", ".original")].shape[1]
            per_input = value.numel() // in_old  # kernel positions: _v is the flattened (in, kh, kw)
            out[key] = _pad(value.reshape(in_old, per_input), (in_new, per_input), 0.0).reshape(-1)
        elif value.dim() == 1:
            one = key.endswith("running_var") or key in gains
            out[key] = _pad(value, template.shape, 1.0 if one else 0.0)
        elif value.dim() == 2 and value.shape[1] == template.shape[1]:  # conditional gains / biases
            out[key] = _pad(value, template.shape, 0.0)
        else:
            raise WidenError(f"{key}: no widening rule for {tuple(value.shape)} -> {tuple(template.shape)}")
    return out


def _pad(value: torch.Tensor, shape: tuple[int, ...] | torch.Size, fill: float) -> torch.Tensor:
    padded = torch.full(tuple(shape), fill, dtype=value.dtype)
    padded[tuple(slice(0, n) for n in value.shape)] = value
    return padded


def _widen_weight(value: torch.Tensor, shape: torch.Size, rng: torch.Generator, silent: bool) -> torch.Tensor:
    out_old, in_old = value.shape[:2]
    scale = 0.0 if silent else NEW_WEIGHT_SCALE * float(value.std())
    widened = torch.randn(tuple(shape), generator=rng, dtype=value.dtype) * scale  # new outputs read anything
    widened[:out_old] = 0.0  # old outputs read new inputs through zeros ...
    widened[:out_old, :in_old] = value  # ... and old inputs as before
    return widened
