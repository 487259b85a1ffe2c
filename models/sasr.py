"""SASR-Net: a small super-resolution network with channel attention and deconvolution upsampling.

Head conv -> residual groups of RCAN-style blocks (conv, ReLU, conv, channel attention, skip) -> stride-2
transposed convolutions up to ``scale`` -> tail conv, added to a bicubic upsample of the input (so the
network only learns the missing detail), clamped to [0, 1] at inference.

There is no pooling layer anywhere: channel attention takes a plain mean over H and W (exported as
ReduceMean), which keeps the network valid for any input size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import register_model

log = logging.getLogger(__name__)


@dataclass
class SASRConfig:
    scale: int = 4
    channels: int = 48
    n_groups: int = 3
    n_blocks: int = 4  # per group
    reduction: int = 16

    def __post_init__(self) -> None:
        if self.scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, got {self.scale}")
        if self.channels < 1 or self.n_groups < 1 or self.n_blocks < 1 or self.reduction < 1:
            raise ValueError("channels, n_groups, n_blocks and reduction must be positive")


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1)


class ChannelAttention(nn.Module):
    """Squeeze (mean over H, W) -> 1x1 conv to C/r -> ReLU -> 1x1 conv to C -> sigmoid gate."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.excite = nn.Conv2d(hidden, channels, 1)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """Per-channel weights in [0, 1], shape (N, C, 1, 1)."""
        pooled = x.mean(dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.excite(F.relu(self.squeeze(pooled))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class RCAB(nn.Module):
    """Residual channel-attention block."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv3(channels, channels), nn.ReLU(inplace=True), _conv3(channels, channels),
            ChannelAttention(channels, reduction),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """Blocks followed by a conv, with a skip around the whole group (RCAN's short skip)."""

    def __init__(self, channels: int, n_blocks: int, reduction: int) -> None:
        super().__init__()
        blocks = [RCAB(channels, reduction) for _ in range(n_blocks)]
        self.body = nn.Sequential(*blocks, _conv3(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def init_bilinear(deconv: nn.ConvTranspose2d) -> None:
    """Start a kernel-4 / stride-2 / padding-1 deconvolution as per-channel bilinear upsampling.

    A random transposed convolution paints a checkerboard: the four output phases each see their own
    slice of the kernel. Started as bilinear interpolation (the separable kernel 1/4, 3/4, 3/4, 1/4 on the
    diagonal, zero across channels), every phase starts equal and any pattern has to be learned.
    """
    c_in, c_out, k, _ = deconv.weight.shape
    if k != 4 or deconv.stride != (2, 2) or c_in != c_out:
        raise ValueError("init_bilinear expects a square kernel-4, stride-2 deconvolution")
    taps = torch.tensor([0.25, 0.75, 0.75, 0.25])
    with torch.no_grad():
        deconv.weight.zero_()
        deconv.weight[torch.arange(c_in), torch.arange(c_in)] = taps[:, None] * taps[None, :]
        deconv.bias.zero_()


class SASRNet(nn.Module):
    """Maps an RGB image in [0, 1] of any size (N, 3, H, W) to (N, 3, scale*H, scale*W) in [0, 1]."""

    def __init__(self, config: SASRConfig) -> None:
        super().__init__()
        self.scale = config.scale
        c = config.channels
        self.head = _conv3(3, c)
        groups = [ResidualGroup(c, config.n_blocks, config.reduction) for _ in range(config.n_groups)]
        self.body = nn.Sequential(*groups, _conv3(c, c))
        stages: list[nn.Module] = []
        for _ in range(config.scale.bit_length() - 1):  # log2(scale) stride-2 deconvolutions
            # kernel 4 / stride 2 / padding 1: exactly doubles H and W, and the kernel being a multiple of
            # the stride spreads every input pixel evenly (less checkerboard than kernel 3).
            stages += [nn.ConvTranspose2d(c, c, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
        self.upsample = nn.Sequential(*stages)
        for stage in self.upsample:
            if isinstance(stage, nn.ConvTranspose2d):
                init_bilinear(stage)
        self.tail = _conv3(c, 3)
        # A zero tail makes the untrained network exactly the bicubic skip: training starts from the
        # baseline instead of from noise, which matters on a CPU budget of a few thousand steps.
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x - 0.5)  # centre the input; the bicubic skip carries the absolute level
        return feat + self.body(feat)

    def forward_head(self, feat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        detail = self.tail(self.upsample(feat))
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        out = base + detail
        # Clamping only at inference keeps gradients alive for out-of-range pixels during training.
        return out if self.training else out.clamp(0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x), x)


@dataclass
class SASRx2Config(SASRConfig):
    """The x2 variant's defaults (same architecture, one deconvolution stage)."""

    scale: int = 2


@register_model("sasr_x2", SASRx2Config)
def sasr_x2(config: SASRConfig) -> SASRNet:
    if config.scale != 2:
        raise ValueError("sasr_x2 needs scale=2")
    return SASRNet(config)


@register_model("sasr_x4", SASRConfig)
def sasr_x4(config: SASRConfig) -> SASRNet:
    if config.scale != 4:
        raise ValueError("sasr_x4 needs scale=4")
    return SASRNet(config)
