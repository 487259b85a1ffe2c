"""Painting encoder: a compact residual CNN trained to classify the painting styles.

Its penultimate layer is the image embedding that the ordering of a collection and the choice of the
best generated candidate use. The contract input is 224x224 RGB in [0, 1]; the network averages it down
to ``work_size`` (112) first, which keeps it fast on a CPU and lets it train on 112-pixel bundles.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import register_model
from models.sagan import PAINTING_STYLES

# Per-channel statistics of the training paintings, so inputs arrive roughly standardised.
_MEAN = (0.47, 0.43, 0.37)
_STD = (0.27, 0.26, 0.25)


@dataclass
class EncoderConfig:
    classes: tuple[str, ...] = PAINTING_STYLES
    input_size: int = 224
    work_size: int = 112
    widths: tuple[int, ...] = (24, 48, 96, 192)
    embedding_dim: int = 128
    dropout: float = 0.2


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class PaintingEncoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))
        self.stem = nn.Sequential(nn.Conv2d(3, w[0], 3, 2, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU())
        self.stages = nn.Sequential(*[BasicBlock(w[i], w[i + 1], 2) for i in range(len(w) - 1)])
        self.embed = nn.Linear(w[-1], config.embedding_dim)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.embedding_dim, len(config.classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (224 or ``work_size`` pixels) -> the embedding."""
        if x.shape[-1] != self.config.work_size:
            x = F.avg_pool2d(x, x.shape[-1] // self.config.work_size)
        h = self.stages(self.stem((x - self.mean) / self.std))
        return self.embed(h.mean(dim=(2, 3)))

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        """Embedding -> class logits."""
        return self.head(self.drop(F.relu(embedding)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class EncoderExport(nn.Module):
    """The exported graph: image -> (embedding, softmax probabilities)."""

    def __init__(self, encoder: PaintingEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.encoder.forward_features(image)
        return embedding, torch.softmax(self.encoder.forward_head(embedding), dim=1)


@register_model("painting_encoder", EncoderConfig)
def painting_encoder(config: EncoderConfig) -> PaintingEncoder:
    return PaintingEncoder(config)
