"""Conditional Self-Attention GAN (SAGAN) whose condition is a *style mixture*.

The condition is a vector of K non-negative weights summing to 1. It enters the generator through
class-conditional batch norm and the discriminator through a projection, both as ``style @ embedding``,
so a one-hot vector selects one style and 0.7/0.3 blends two embeddings ("70% impressionism, 30%
expressionism"). Spectral normalisation on every conv/linear layer of both networks, self-attention at
the 32x32 feature map (and 64x64 for 128-pixel output), hinge loss and the two time-scale update rule
are in :mod:`models.train.sagan`.

The generator maps ``z`` (standard normal) and ``style`` to an RGB image in [0, 1], the exported
contract; the discriminator takes images in [0, 1] too.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from models.registry import register_model

PAINTING_STYLES = (
    "art_nouveau_modern", "baroque", "expressionism", "impressionism", "post_impressionism",
    "romanticism", "symbolism",
)


@dataclass
class SAGANConfig:
    resolution: int = 64
    latent_dim: int = 128
    classes: tuple[str, ...] = PAINTING_STYLES
    g_channels: int = 32  # width unit: the 4x4 block has 8x this many channels, halving per upsample
    d_channels: int = 32
    # The fewest channels any block may have (0: no floor). The width rule halves the channels per upsample, so
    # the 32x32 and 64x64 blocks that paint the texture are the thinnest (16 at width 16); a floor widens just
    # them. ``models.widen`` turns a trained network into its floored version without changing its output.
    g_min_channels: int = 0
    d_min_channels: int = 0
    attention_at: tuple[int, ...] = field(default=())  # empty: 32 (and 64 from 128 px up)
    # Remove the part of the output that repeats on this pixel grid (0: off); see LatticeFilter.
    lattice_period: int = 0
    # Damp the output's checkerboard-like diagonal detail by this fraction (0: off); see CheckerboardFilter.
    checkerboard_damping: float = 0.0

    def __post_init__(self) -> None:
        p = self.lattice_period
        if p and (p < 2 or p & (p - 1) or p > self.resolution // 4):
            raise ValueError(f"lattice_period must be 0 or a power of two from 2 to resolution/4, got {p}")
        if not 0.0 <= self.checkerboard_damping <= 1.0:
            raise ValueError(f"checkerboard_damping must be from 0 to 1, got {self.checkerboard_damping}")

    def attention_resolutions(self) -> tuple[int, ...]:
        if self.attention_at:
            return tuple(self.attention_at)
        return (32, 64) if self.resolution >= 128 else (32,)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def sn_conv(cin: int, cout: int, k: int = 3) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, k, padding=k // 2))


def sn_linear(cin: int, cout: int, bias: bool = True) -> nn.Module:
    return spectral_norm(nn.Linear(cin, cout, bias=bias))


class SelfAttention(nn.Module):
    """SAGAN self-attention: every position attends to every other; gamma starts at 0 so the block
    begins as the identity and learns how much global context to mix in."""

    def __init__(self, channels: int):
        super().__init__()
        inner = max(channels // 8, 1)
        self.query = sn_conv(channels, inner, 1)
        self.key = sn_conv(channels, inner, 1)
        self.value = sn_conv(channels, channels // 2, 1)
        self.out = sn_conv(channels // 2, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q = self.query(x).flatten(2)  # N, C', HW
        k = self.key(x).flatten(2)
        v = self.value(x).flatten(2)  # N, C/2, HW
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=-1)  # N, HW(query), HW(key)
        o = torch.bmm(v, attn.transpose(1, 2)).reshape(n, c // 2, h, w)
        return x + self.gamma * self.out(o)


class LatticeFilter(nn.Module):
    """Remove the pattern of an image that repeats exactly on a ``period`` x ``period`` pixel grid.

    Nearest-neighbour upsampling followed by convolutions leaves a faint pattern locked to the grid of the
    last upsamplings: in the spectrum, sharp single-bin peaks at the frequencies that are multiples of
    ``resolution / period`` (the shipped 64 px generator: 2.3x the real paintings' amplitude at the
    diagonal Nyquist frequency, 1.9x at 16 cycles), which the upscaler turns into a diagonal hatch.

    The pattern is measured on the image's fine detail, ``x - smooth(x)``, where ``smooth`` is a symmetric
    kernel (a ``period``-box convolved with [1/2, 1/2]) that cancels any ``period``-periodic pattern and
    keeps linear ramps, so a sky's gradient does not leak into the estimate. Averaging that detail over
    every ``period``-th pixel (away from the borders) gives the periodic tile, its mean removed; subtracting
    the tile everywhere removes the pattern and leaves the picture. It has no weights, so it can be added
    to a generator trained without it (``exporters sagan --lattice-period``).
    """

    def __init__(self, period: int, channels: int = 3):
        super().__init__()
        self.period = period
        taps = torch.full((period + 1,), 1.0 / period)
        taps[0] = taps[-1] = 0.5 / period
        # Fixed depthwise kernels, outside the state dict: checkpoints with and without the filter stay
        # interchangeable. Their shapes are static so the ONNX export sees a plain convolution.
        self.register_buffer("taps_x", taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), persistent=False)
        self.register_buffer("taps_y", taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), persistent=False)

    def smooth(self, x: torch.Tensor) -> torch.Tensor:
        half = self.period // 2
        x = F.pad(x, (half, half, half, half), mode="reflect")
        x = F.conv2d(x, self.taps_x, groups=self.taps_x.shape[0])
        return F.conv2d(x, self.taps_y, groups=self.taps_y.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, c, h, w = x.shape
        p = self.period
        # measured one period away from the borders, where the smoothing's padding plays no part
        detail = (x - self.smooth(x))[:, :, p : h - p, p : w - p]
        tile = detail.reshape(-1, c, h // p - 2, p, w // p - 2, p).mean(dim=(2, 4))
        tile = tile - tile.mean(dim=(2, 3), keepdim=True)
        return x - tile.repeat(1, 1, h // p, w // p)


class CheckerboardFilter(nn.Module):
    """Damp the diagonal detail next to the checkerboard frequency, leaving horizontal and vertical detail.

    Nearest-neighbour upsampling followed by 3x3 convolutions leaves a generator more diagonal
    near-Nyquist detail than real paintings have (the shipped 64 px one: 1.35x the real ratio of diagonal
    to axis-aligned fine detail after upscaling). SASR-Net learned from bicubic reductions, which carry
    almost none, and draws it as a regular diagonal hatch at wall size. The filter subtracts ``damping``
    times the separable [1, -2, 1] x [1, -2, 1] / 16 high-pass, whose response sin^2(pi fx) sin^2(pi fy)
    is 1 at the checkerboard frequency and 0 along both axes: damping 0.5 halves the checkerboard, takes a
    quarter off the diagonal at half its frequency and keeps every horizontal and vertical stroke.
    """

    def __init__(self, damping: float, channels: int = 3):
        super().__init__()
        self.damping = damping
        taps = torch.tensor([1.0, -2.0, 1.0]) / 4
        self.register_buffer("kernel", torch.outer(taps, taps).repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        high = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel, groups=self.kernel.shape[0])
        return x - self.damping * high


class GaussianBlur(nn.Module):
    """Separable Gaussian blur of ``channels`` channels, edges replicated (any image size). The taps are
    fixed buffers of static shape, outside the state dict, so the ONNX export sees plain convolutions."""

    def __init__(self, channels: int, sigma: float):
        super().__init__()
        self.radius = max(1, math.ceil(2.5 * sigma))
        taps = torch.exp(-0.5 * (torch.arange(-self.radius, self.radius + 1) / sigma) ** 2)
        taps = (taps / taps.sum()).repeat(channels, 1)
        self.register_buffer("taps_x", taps.view(channels, 1, 1, -1), persistent=False)
        self.register_buffer("taps_y", taps.view(channels, 1, -1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.radius
        x = F.pad(x, (r, r, r, r), mode="replicate")
        x = F.conv2d(x, self.taps_x, groups=self.taps_x.shape[0])
        return F.conv2d(x, self.taps_y, groups=self.taps_y.shape[0])


class FixedPatternFilter(nn.Module):
    """Remove the texture a generator paints at the same pixel positions in every picture.

    Convolutional generators glue some fine texture to image coordinates instead of to what is painted
    ("texture sticking"): averaged over thousands of samples, the pictures cancel out and a fixed pattern
    remains. The shipped 64 px generator's is a diagonal weave at about 2.2 px (its spectrum peaks at 3.4x
    the real paintings' amplitude there, phase-locked across samples), which the upscaler draws as
    diagonal strokes. As a camera subtracts its dark frame, this subtracts the pattern, measured once per
    style by :func:`measure_fixed_pattern` and mixed by the style weights. Its strength varies with what is
    painted, so each pixel removes the pattern's local least-squares fit to the image's fine detail, over a
    Gaussian window of WINDOW_SIGMA pixels (a coefficient clamped to [0, 3], so it never adds it).
    """

    DETAIL_SIGMA = 1.0  # fine detail: the image minus this blur, here and in measure_fixed_pattern
    WINDOW_SIGMA = 4.0

    def __init__(self, patterns: torch.Tensor):
        super().__init__()
        # A buffer outside the state dict: measured from the weights at export, not trained.
        self.register_buffer("patterns", patterns.flatten(1), persistent=False)
        self.pattern_shape = tuple(patterns.shape[1:])
        self.detail_blur = GaussianBlur(patterns.shape[1], self.DETAIL_SIGMA)
        self.window = GaussianBlur(1, self.WINDOW_SIGMA)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        pattern = (style @ self.patterns).view(-1, *self.pattern_shape)
        detail = x - self.detail_blur(x)
        fit = self.window((detail * pattern).sum(1, keepdim=True))
        energy = self.window((pattern * pattern).sum(1, keepdim=True))
        return x - (fit / (energy + 1e-8)).clamp(0.0, 3.0) * pattern


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift come from the style mixture: gamma = 1 + style @ G,
    beta = style @ B. With a one-hot style this is ordinary class-conditional batch norm."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(num_classes, channels, bias=False)
        self.bias = nn.Linear(num_classes, channels, bias=False)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma = 1 + self.gain(style)[:, :, None, None]
        beta = self.bias(style)[:, :, None, None]
        return self.bn(x) * gamma + beta


class GeneratorBlock(nn.Module):
    def __init__(self, cin: int, cout: int, num_classes: int):
        super().__init__()
        self.bn1 = ConditionalBatchNorm(cin, num_classes)
        self.conv1 = sn_conv(cin, cout)
        self.bn2 = ConditionalBatchNorm(cout, num_classes)
        self.conv2 = sn_conv(cout, cout)
        self.skip = sn_conv(cin, cout, 1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, style)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), style)))
        return h + self.skip(F.interpolate(x, scale_factor=2, mode="nearest"))


def add_output_filter_arguments(p: argparse.ArgumentParser, unset: str) -> None:
    """``--lattice-period`` and ``--checkerboard-damping``, the weightless output filters, for the trainer and
    the exporter alike; both default to None, and ``unset`` says what that means to the command."""
    p.add_argument("--lattice-period", type=int, default=None, metavar="P",
                   help=f"remove the output's P-pixel grid pattern (LatticeFilter; 0: off; {unset})")
    p.add_argument("--checkerboard-damping", type=float, default=None, metavar="A",
                   help=f"damp the output's diagonal near-Nyquist detail by A (CheckerboardFilter; 0: off; "
                        f"0.3 for the pack; {unset})")


class Generator(nn.Module):
    def __init__(self, config: SAGANConfig):
        super().__init__()
        self.config = config
        n_up = int(math.log2(config.resolution)) - 2  # 4x4 -> resolution
        if 4 * 2**n_up != config.resolution:
            raise ValueError(f"resolution must be a power of two >= 8, got {config.resolution}")
        widths = [max(config.g_min_channels, config.g_channels * min(8, 2 ** max(3 - i, 0))) for i in range(n_up + 1)]
        self.widths = widths
        self.fc = sn_linear(config.latent_dim, widths[0] * 16)
        self.blocks = nn.ModuleList()
        self.attention = nn.ModuleDict()
        size = 4
        for i in range(n_up):
            self.blocks.append(GeneratorBlock(widths[i], widths[i + 1], config.num_classes))
            size *= 2
            if size in config.attention_resolutions():
                self.attention[str(i)] = SelfAttention(widths[i + 1])
        self.out_bn = nn.BatchNorm2d(widths[-1])
        self.out_conv = sn_conv(widths[-1], 3)
        self.lattice = LatticeFilter(config.lattice_period) if config.lattice_period else None
        self.checkerboard = CheckerboardFilter(config.checkerboard_damping) if config.checkerboard_damping else None
        self.fixed_pattern: FixedPatternFilter | None = None  # see measure_fixed_pattern

    def set_lattice_period(self, period: int) -> None:
        """Turn the output's lattice filter on (``period``) or off (0), e.g. on a checkpoint trained without it:
        the filter has no weights, so it can be added after training."""
        self.config = dataclasses.replace(self.config, lattice_period=period)  # validates the period
        self.lattice = LatticeFilter(period) if period else None

    def set_checkerboard_damping(self, damping: float) -> None:
        """Turn the output's checkerboard filter on (``damping`` > 0) or off (0); weightless like the lattice
        filter, so it can be added to a trained generator."""
        self.config = dataclasses.replace(self.config, checkerboard_damping=damping)  # validates it
        self.checkerboard = CheckerboardFilter(damping) if damping else None

    def forward(self, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).reshape(z.shape[0], self.widths[0], 4, 4)
        for i, block in enumerate(self.blocks):
            h = block(h, style)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        h = self.out_conv(F.relu(self.out_bn(h)))
        image = (torch.tanh(h) + 1) * 0.5  # RGB in [0, 1]
        # the output filters, each for one measured artefact: the grid, the diagonal detail the upscaler would
        # turn into a hatch, and last what still sticks to pixel positions (measured after the other two)
        if self.lattice is not None:
            image = self.lattice(image)
        if self.checkerboard is not None:
            image = self.checkerboard(image)
        if self.fixed_pattern is not None:
            image = self.fixed_pattern(image, style)
        # back inside [0, 1] for the contract; training keeps the gradient of the few pixels pushed outside
        return image if self.training else image.clamp(0.0, 1.0)


class DiscriminatorBlock(nn.Module):
    def __init__(self, cin: int, cout: int, downsample: bool = True, preactivation: bool = True):
        super().__init__()
        self.conv1 = sn_conv(cin, cout)
        self.conv2 = sn_conv(cout, cout)
        self.skip = sn_conv(cin, cout, 1) if (cin != cout or downsample) else None
        self.downsample = downsample
        self.preactivation = preactivation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.skip is not None:
            s = self.skip(s)
            if self.downsample:
                s = F.avg_pool2d(s, 2)
        return h + s


class Discriminator(nn.Module):
    """Projection discriminator: score = linear(h) + <style @ E, h>."""

    def __init__(self, config: SAGANConfig):
        super().__init__()
        self.config = config
        n_down = int(math.log2(config.resolution)) - 2
        widths = [3] + [max(config.d_min_channels, config.d_channels * min(8, 2**i)) for i in range(n_down + 1)]
        self.blocks = nn.ModuleList()
        self.attention = nn.ModuleDict()
        size = config.resolution
        for i in range(n_down):
            self.blocks.append(DiscriminatorBlock(widths[i], widths[i + 1], True, preactivation=i > 0))
            size //= 2
            if size in config.attention_resolutions():
                self.attention[str(i)] = SelfAttention(widths[i + 1])
        self.blocks.append(DiscriminatorBlock(widths[-2], widths[-1], downsample=False))
        self.linear = sn_linear(widths[-1], 1)
        self.embed = sn_linear(config.num_classes, widths[-1], bias=False)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = x * 2 - 1
        for i, block in enumerate(self.blocks):
            h = block(h)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        h = F.relu(h).sum(dim=(2, 3))
        return self.linear(h).squeeze(1) + (self.embed(style) * h).sum(dim=1)


class SAGAN(nn.Module):
    """Holds both networks so one checkpoint and one registry entry describe the pair; export uses
    ``.generator`` alone."""

    def __init__(self, config: SAGANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)

    def forward(self, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.generator(z, style)


@register_model("sagan", SAGANConfig)
def sagan(config: SAGANConfig) -> SAGAN:
    return SAGAN(config)


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return F.one_hot(labels, num_classes).float()


def normalise_mixture(weights: torch.Tensor) -> torch.Tensor:
    """Clamp to non-negative and scale each row to sum to 1 (a valid style mixture)."""
    weights = weights.clamp(min=0)
    return weights / weights.sum(dim=1, keepdim=True).clamp(min=1e-8)


@torch.no_grad()
def measure_standing_stats(generator: Generator, batches: int = 16, batch_size: int = 64, seed: int = 0) -> None:
    """Set every batch norm's running statistics to their average over fresh samples of *these* weights
    (BigGAN's "standing statistics"), then leave the generator in eval mode.

    An EMA generator's weights are an average that never ran forward in training, so the running
    statistics it carries belong to other weights: sampled as they are, about a tenth of the pixels blow
    out. Call this before every sample grid, validation and export. Styles are drawn as one-hot vectors and
    random two-style mixtures, as the runtime asks for both.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches below
    device = next(generator.parameters()).device
    g = torch.Generator(device="cpu").manual_seed(seed)
    k = generator.config.num_classes
    # Only the norms in training mode: a generator in train mode would also step spectral norm's power
    # iteration, changing the weights this is measuring for.
    generator.eval()
    for m in norms:
        m.train()
    for _ in range(batches):
        z = torch.randn(batch_size, generator.config.latent_dim, generator=g).to(device)
        labels = torch.randint(0, k, (batch_size,), generator=g)
        style = F.one_hot(labels, k).float()
        mixed = torch.rand(batch_size, generator=g) < 0.25
        other = F.one_hot(torch.randint(0, k, (batch_size,), generator=g), k).float()
        w = torch.rand(batch_size, 1, generator=g)
        style = torch.where(mixed[:, None], w * style + (1 - w) * other, style).to(device)
        generator(z, style)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    generator.eval()


@torch.no_grad()
def measure_fixed_pattern(generator: Generator, samples_per_style: int, seed: int = 0,
                          batch_size: int = 64) -> FixedPatternFilter:
    """Install (and return) the generator's :class:`FixedPatternFilter`: for each style, the fine detail of
    the mean of ``samples_per_style`` fresh pictures of that style, drawn with ``seed`` (deterministic, so
    ``verify`` rebuilds the same filter). Measure batch-norm statistics first: the pattern belongs to the
    weights as they will be sampled."""
    generator.fixed_pattern = None
    generator.eval()
    device = next(generator.parameters()).device
    g = torch.Generator(device="cpu").manual_seed(seed)
    k, res = generator.config.num_classes, generator.config.resolution
    means = []
    for c in range(k):
        total = torch.zeros(1, 3, res, res, device=device)
        for start in range(0, samples_per_style, batch_size):
            n = min(batch_size, samples_per_style - start)
            z = torch.randn(n, generator.config.latent_dim, generator=g).to(device)
            style = F.one_hot(torch.full((n,), c), k).float().to(device)
            total += generator(z, style).sum(0, keepdim=True)
        means.append(total / samples_per_style)
    mean = torch.cat(means)
    detail = mean - GaussianBlur(3, FixedPatternFilter.DETAIL_SIGMA).to(device)(mean)
    generator.fixed_pattern = FixedPatternFilter(detail).to(device)
    return generator.fixed_pattern
