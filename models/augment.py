"""Differentiable augmentation (colour, translation, cutout) for GAN training with little data.

Applied to real and generated images alike, before the discriminator, in both the D and the G step;
being differentiable, it lets G's gradients flow through it. With ~1000 images a class the
discriminator otherwise memorises the training set and G collapses.
Images are in [0, 1], shape (N, C, H, W).
"""

from __future__ import annotations

import torch


def colour(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, device=x.device) - 0.5) * 0.5  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device) + 0.5) + mean  # contrast


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n,), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n,), device=x.device)
    # integer shifts that repeat the edge pixels, as one gather so gradients flow to the kept pixels.
    # A black fill would look like the letterbox bars the data was cropped of, and teach G to paint them.
    ys = (torch.arange(h, device=x.device)[None, :] - dy[:, None]).clamp(0, h - 1)  # N, H
    xs = (torch.arange(w, device=x.device)[None, :] - dx[:, None]).clamp(0, w - 1)
    rows = x.gather(2, ys[:, None, :, None].expand(-1, x.shape[1], -1, w))
    return rows.gather(3, xs[:, None, None, :].expand(-1, x.shape[1], h, -1))


CUTOUT_FILL = 0.5


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gy = torch.arange(h, device=x.device)[None, :, None]
    gx = torch.arange(w, device=x.device)[None, None, :]
    inside = ((gy - cy).abs() <= ch // 2) & ((gx - cx).abs() <= cw // 2)
    return torch.where(inside[:, None], CUTOUT_FILL, x)  # mid grey, not black: see translation()


POLICIES = {"colour": colour, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: str = "colour,translation,cutout") -> torch.Tensor:
    for name in filter(None, policy.split(",")):
        x = POLICIES[name](x)
    return x
