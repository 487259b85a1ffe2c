"""Evaluate the shipped generator the way the model card reports it, on the ONNX files themselves.

    python -m models.evaluate --generator assets/models/sagan.onnx --encoder assets/models/encoder.onnx \
        --data data/paintings64.npz [--per-style 100] [--grid docs/images/sagan_samples.png] [--json OUT]

Per style: the Frechet distance, in the encoder's embedding space, between generated paintings and
held-out real paintings of that style (at the generator's resolution), next to the same distance between
two real samples (held-out vs train) of that style and size, the floor a perfect generator would reach;
and the fraction of generated paintings the encoder assigns to the requested style; and how often a
picture sits inside a dark border (:mod:`installation.dark_border`), generated vs real. Uses ONNX Runtime
only (no torch), like the runtime.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from installation.dark_border import has_dark_border
from installation.inference.encoder import PaintingEncoder
from installation.inference.generator import Generator, to_uint8
from models.data import Bundle
from models.frechet import embedding_fd


def spectrum_slope(images: np.ndarray) -> float:
    """Mean log-log slope of the radially averaged power spectrum of the gray images (natural images and
    paintings sit near -2 to -3; noise is flatter, blur steeper)."""
    slopes = []
    for img in images:
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
        power = np.abs(np.fft.fftshift(np.fft.fft2(g - g.mean()))) ** 2
        h, w = g.shape
        yy, xx = np.indices(g.shape)
        radius = np.hypot(yy - h // 2, xx - w // 2).astype(int)
        radial = np.bincount(radius.ravel(), power.ravel()) / np.maximum(np.bincount(radius.ravel()), 1)
        f = np.arange(2, min(h, w) // 2)
        slopes.append(np.polyfit(np.log(f), np.log(radial[f] + 1e-9), 1)[0])
    return float(np.mean(slopes))


def gray_spectra(images: np.ndarray) -> np.ndarray:
    """The 2-D Fourier transform of each image's gray level, its mean removed: (N, H, W) complex."""
    gray = np.stack([cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) for img in images]).astype(np.float64)
    return np.fft.fft2(gray - gray.mean(axis=(1, 2), keepdims=True))


def amplitude_ratio(generated: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Mean spectral amplitude of the generated images over the real ones', per frequency bin (DC: 1)."""
    ratio = np.abs(gray_spectra(generated)).mean(0) / np.maximum(np.abs(gray_spectra(real)).mean(0), 1e-9)
    ratio[0, 0] = 1.0
    return ratio


def grid_peak(generated: np.ndarray, real: np.ndarray, period: int = 4) -> float:
    """How far a ``period``-pixel grid pattern stands out: the largest ratio, generated over real, of the
    mean spectral amplitude at that grid's frequencies (multiples of size/period cycles, DC excluded).

    Upsampling layers leave such single-bin peaks (the diagonal hatch); about 1 means none, and
    models.sagan.LatticeFilter takes the generator's below 1.
    """
    ratio = amplitude_ratio(generated, real)
    step_y, step_x = ratio.shape[0] // period, ratio.shape[1] // period
    return float(max(ratio[i * step_y, j * step_x] for i in range(period) for j in range(period) if i or j))


def spectral_peak(generated: np.ndarray, real: np.ndarray) -> float:
    """The largest generated-over-real amplitude ratio at any frequency: a texture that stands out at one
    frequency, whatever its origin (grid patterns, stuck textures). About 1-1.3 at sample sizes of a few
    hundred when there is none."""
    return float(amplitude_ratio(generated, real).max())


def texture_lock(images: np.ndarray) -> float:
    """How much of the fine detail is the same at the same pixels in every picture: at frequencies above a
    quarter of the sampling rate, the median over bins of |mean spectrum| / mean |spectrum|. Unrelated
    pictures give about 1/sqrt(N); a generator with a stuck texture (models.sagan.FixedPatternFilter)
    gives more."""
    spectra = gray_spectra(images)
    fy = np.fft.fftfreq(spectra.shape[1])[:, None]
    fx = np.fft.fftfreq(spectra.shape[2])[None, :]
    high = np.hypot(fy, fx) > 0.25
    lock = np.abs(spectra.mean(0)) / np.maximum(np.abs(spectra).mean(0), 1e-9)
    return float(np.median(lock[high]))


def lab_moments(images: np.ndarray) -> np.ndarray:
    """Per-image mean and standard deviation of L, a, b: the colour statistics of a painting."""
    labs = [cv2.cvtColor(img, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64) for img in images]
    return np.array([np.concatenate([lab.mean(0), lab.std(0)]) for lab in labs])


def diversity(embeddings: np.ndarray) -> float:
    """Mean pairwise Euclidean distance: how varied a set is (compare generated with real)."""
    diffs = embeddings[:, None, :] - embeddings[None, :, :]
    n = len(embeddings)
    return float(np.sqrt((diffs**2).sum(-1)).sum() / max(n * (n - 1), 1))


def sample_grid(gen: Generator, per_row: int = 8, seed: int = 0) -> np.ndarray:
    """One row per style (the same latent codes in every row), then two rows of 50/50 mixtures."""
    z = gen.latents(per_row, seed)
    k = len(gen.classes)
    styles = [np.eye(k, dtype=np.float32)[c] for c in range(k)]
    styles += [(np.eye(k)[0] + np.eye(k)[2]) / 2, (np.eye(k)[3] + np.eye(k)[1]) / 2]
    rows = [np.concatenate(list(to_uint8(gen.generate(z, s.astype(np.float32)))), axis=1) for s in styles]
    return np.concatenate(rows, axis=0)


def evaluate(gen: Generator, enc: PaintingEncoder, bundle: Bundle, per_style: int, seed: int) -> dict:
    if bundle.classes != gen.classes:
        raise ValueError(f"bundle classes {bundle.classes} differ from the generator's {gen.classes}")
    held, held_y = bundle.stack("heldout")
    train, train_y = bundle.stack("train")
    res = gen.resolution
    if held.shape[1] != res:
        raise ValueError(f"bundle is {held.shape[1]} px, the generator makes {res} px: build a {res} px bundle")
    rng = np.random.default_rng(seed)
    rows = []
    all_fake, all_real = [], []
    for c, style in enumerate(gen.classes):
        real = held[held_y == c]
        n = min(per_style, len(real))
        ref = train[train_y == c][rng.choice(int((train_y == c).sum()), n, replace=False)]
        z = gen.latents(n, seed + c)
        fake = np.concatenate([to_uint8(gen.generate(z[i : i + 32], np.eye(len(gen.classes), dtype=np.float32)[c]))
                               for i in range(0, n, 32)])
        e_real, e_ref = enc.embed(real[:n]), enc.embed(ref)
        encoded = enc.encode(fake)
        all_fake.append(fake)
        all_real.append(real[:n])
        lab_fake, lab_real = lab_moments(fake).mean(0), lab_moments(real[:n]).mean(0)
        rows.append({
            "style": style, "n": n,
            "lab_mean_std_generated": lab_fake.round(2).tolist(),
            "lab_mean_std_real": lab_real.round(2).tolist(),
            "spectrum_slope_generated": spectrum_slope(fake),
            "spectrum_slope_real": spectrum_slope(real[:n]),
            "diversity_ratio": diversity(encoded.embedding) / max(diversity(e_real), 1e-9),
            "fd_generated_vs_heldout": embedding_fd(encoded.embedding, e_real),
            "fd_real_train_vs_heldout": embedding_fd(e_ref, e_real),
            "style_accuracy_generated": float((encoded.probs.argmax(1) == c).mean()),
            "style_accuracy_real": float((enc.encode(real[:n]).probs.argmax(1) == c).mean()),
        })
    return {"resolution": res, "per_style": rows,
            "mean_fd_generated": float(np.mean([r["fd_generated_vs_heldout"] for r in rows])),
            "mean_fd_real": float(np.mean([r["fd_real_train_vs_heldout"] for r in rows])),
            "mean_style_accuracy_generated": float(np.mean([r["style_accuracy_generated"] for r in rows])),
            "grid_peak_4px": grid_peak(np.concatenate(all_fake), np.concatenate(all_real), period=4),
            "spectral_peak": spectral_peak(np.concatenate(all_fake), np.concatenate(all_real)),
            "texture_lock_generated": texture_lock(np.concatenate(all_fake)),
            "texture_lock_real": texture_lock(np.concatenate(all_real)),
            "dark_border_generated": dark_border_rate(np.concatenate(all_fake)),
            "dark_border_real": dark_border_rate(np.concatenate(all_real))}


def dark_border_rate(images: np.ndarray) -> float:
    """The fraction of pictures inside a dark border, like the letterbox bars the data was cut of."""
    return float(np.mean([has_dark_border(img) for img in images]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--generator", type=Path, required=True)
    p.add_argument("--encoder", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True, help="painting bundle at the generator's resolution")
    p.add_argument("--per-style", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", type=Path, default=None, help="write a sample grid PNG here")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    gen, enc = Generator(args.generator), PaintingEncoder(args.encoder)
    result = evaluate(gen, enc, Bundle.load(args.data), args.per_style, args.seed)
    print(f"{'style':20s} {'n':>4s} {'FD gen-vs-real':>15s} {'FD real-vs-real':>16s} {'style acc gen':>14s} "
          f"{'style acc real':>15s} {'slope gen/real':>15s} {'L gen/real':>11s} {'diversity':>9s}")
    for r in result["per_style"]:
        print(f"{r['style']:20s} {r['n']:4d} {r['fd_generated_vs_heldout']:15.2f} "
              f"{r['fd_real_train_vs_heldout']:16.2f} "
              f"{r['style_accuracy_generated']:14.2f} {r['style_accuracy_real']:15.2f} "
              f"{r['spectrum_slope_generated']:7.2f}/{r['spectrum_slope_real']:<7.2f} "
              f"{r['lab_mean_std_generated'][0]:5.0f}/{r['lab_mean_std_real'][0]:<5.0f} {r['diversity_ratio']:9.2f}")
    print(f"{'mean':20s} {'':4s} {result['mean_fd_generated']:15.2f} {result['mean_fd_real']:16.2f} "
          f"{result['mean_style_accuracy_generated']:14.2f}")
    print(f"4-px grid peak, generated/real spectral amplitude (about 1: no hatch): {result['grid_peak_4px']:.2f}")
    print(f"largest spectral peak at any frequency, generated/real: {result['spectral_peak']:.2f}")
    print(f"texture locked to pixel positions, generated / real: {result['texture_lock_generated']:.3f} / "
          f"{result['texture_lock_real']:.3f}")
    print(f"inside a dark border, generated / real: {result['dark_border_generated']:.3f} / "
          f"{result['dark_border_real']:.3f}")
    if args.grid:
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.grid), cv2.cvtColor(sample_grid(gen), cv2.COLOR_RGB2BGR))
        print(f"wrote {args.grid}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
