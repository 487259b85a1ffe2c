"""Style fidelity in a space the pack never saw: is each painting of a collection in the style it was asked for?

    python -m models.style_fidelity --real ../shared/data/paintings --collection assets/collections/demo

The pack's encoder chose the demo collection's paintings, so its own verdict on them is biased. This check
judges them with a judge that took no part: a softmax regression on ``models.two_sample``'s image statistics
(colour, layout, detail spectrum, brushwork, borders), trained on the real paintings' train split. It prints
top-1 accuracy on held-out real paintings (the reference: how recognisable each style is by these statistics
at all), optionally on held-out paintings reduced to 64 px and enlarged by an upscaler (a perfect 64 px
painter), and on the collection: a one-style painting counts when the judge names its style, a two-style
mixture when the judge names either of the two. The asked-for styles come from the collection's
``manifest.json`` (written by ``installation generate``).

It also prints each style's **spread** in the same standardised statistics (mean distance between two
paintings), for the collection's one-style paintings and for as many held-out real ones: a collection that
paints each style's stereotype is recognised easily and varies little.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from models.two_sample import at_64_upscaled, check_inputs, image_features, read_rgb, real_paintings_by_style, to_size

MAX_MANIFEST_BYTES = 10_000_000
MAX_PER_STYLE = 100_000


@dataclass
class StyleJudge:
    """A multinomial logistic regression on standardised image statistics."""

    styles: list[str]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, styles: list[str],
            l2: float = 1e-2, steps: int = 1500, lr: float = 0.5) -> StyleJudge:
        mean, std = features.mean(0), features.std(0) + 1e-8
        x = (features - mean) / std
        onehot = np.eye(len(styles))[labels]
        weights, bias = np.zeros((x.shape[1], len(styles))), np.zeros(len(styles))
        for _ in range(steps):  # full-batch gradient descent: small, deterministic, no new dependency
            p = softmax(x @ weights + bias)
            grad = (p - onehot) / len(x)
            weights -= lr * (x.T @ grad + l2 * weights)
            bias -= lr * grad.sum(0)
        return cls(styles, mean, std, weights, bias)

    def standardise(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.std

    def scores(self, features: np.ndarray) -> np.ndarray:
        return softmax(self.standardise(features) @ self.weights + self.bias)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


@dataclass
class Fidelity:
    """Top-1 accuracy per set, overall and per style (a mixture counts under each of its two styles)."""

    heldout: float
    collection_single: float
    collection_mixtures: float
    n_single: int
    n_mixtures: int
    heldout_upscaled: float | None = None
    per_style: dict[str, dict[str, float]] = field(default_factory=dict)


def share_interval(share: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95% by default) of a share measured on ``n`` paintings: with a collection of ~200,
    a few paintings move the share by several points, so two collections are compared with their intervals."""
    if n <= 0 or not np.isfinite(share):
        return 0.0, 1.0
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def spread(standardised: np.ndarray) -> float:
    """Mean Euclidean distance between two different rows (nan below two rows)."""
    n = len(standardised)
    if n < 2:
        return float("nan")
    sq = (standardised**2).sum(1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * standardised @ standardised.T, 0))
    return float(dist.sum() / (n * (n - 1)))


def real_split(root: Path, styles: list[str], split: str, per_style: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Up to ``per_style`` paintings of each style from the ``heldout`` or ``train`` split, bars cut, 256 px."""
    by_style = real_paintings_by_style(root, split, per_style)
    images = [to_size(img) for style in styles for img in by_style[style]]
    labels = [s for s, style in enumerate(styles) for _ in by_style[style]]
    return images, np.array(labels, dtype=np.int64)


def read_collection(folder: Path, styles: list[str]) -> list[tuple[np.ndarray, list[str]]]:
    """Each painting of a collection with the styles it was asked for (its manifest's nonzero weights)."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ValueError(f"{folder}: no manifest.json (a collection written by `installation generate`)")
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError(f"{manifest_path}: larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        entries = json.loads(manifest_path.read_text())["paintings"]
        out = []
        for entry in entries:
            asked = [name for name, weight in entry["style"].items() if float(weight) > 0]
            unknown = [name for name in asked if name not in styles]
            if unknown:
                raise ValueError(f"{manifest_path}: style {unknown[0]!r} is not among the real folders")
            path = folder / Path(str(entry["file"])).name  # a name only: the manifest cannot point outside
            if (img := read_rgb(path)) is None:
                raise ValueError(f"{path}: not a readable image")
            out.append((to_size(img), asked))
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{manifest_path}: not a collection manifest ({exc})") from None
    return out


def run(real_root: Path, collection: Path, per_style: int = 400, upscaler: Path | None = None) -> Fidelity:
    styles = sorted(d.name for d in real_root.iterdir() if d.is_dir())
    if len(styles) < 2:
        raise ValueError(f"{real_root}: needs at least two style folders")
    paintings = read_collection(collection, styles)
    train, train_labels = real_split(real_root, styles, "train", per_style)
    held, held_labels = real_split(real_root, styles, "heldout", per_style)
    if not len(held) or not paintings or len(set(train_labels.tolist())) < len(styles):
        raise ValueError("too few images: every style needs train paintings, and held-out and collection ones")

    def features(images: list[np.ndarray]) -> np.ndarray:
        return np.stack([image_features(img) for img in images])

    judge = StyleJudge.fit(features(train), train_labels, styles)
    held_features, painted = features(held), features([img for img, _ in paintings])
    held_pred = judge.scores(held_features).argmax(1)
    up_pred = None if upscaler is None else judge.scores(features(at_64_upscaled(held, upscaler))).argmax(1)
    named = [styles[k] for k in judge.scores(painted).argmax(1)]
    hits = [(asked, name in asked) for (_, asked), name in zip(paintings, named)]
    single = [hit for asked, hit in hits if len(asked) == 1]
    mixed = [hit for asked, hit in hits if len(asked) > 1]

    per_style = {}
    for s, style in enumerate(styles):
        row = {"heldout": float(np.mean(held_pred[held_labels == s] == s))}
        if up_pred is not None:
            row["heldout_upscaled"] = float(np.mean(up_pred[held_labels == s] == s))
        mine = [k for k, (_, asked) in enumerate(paintings) if asked == [style]]
        row["collection_single"] = float(np.mean([hits[k][1] for k in mine])) if mine else float("nan")
        row["n_single"] = float(len(mine))
        real_rows = np.flatnonzero(held_labels == s)[: max(len(mine), 2)]  # as many: spread grows with n
        row["spread_heldout"] = spread(judge.standardise(held_features[real_rows]))
        row["spread_collection"] = spread(judge.standardise(painted[mine]))
        per_style[style] = row
    return Fidelity(
        heldout=float(np.mean(held_pred == held_labels)),
        heldout_upscaled=None if up_pred is None else float(np.mean(up_pred == held_labels)),
        collection_single=float(np.mean(single)) if single else float("nan"),
        collection_mixtures=float(np.mean(mixed)) if mixed else float("nan"),
        n_single=len(single), n_mixtures=len(mixed), per_style=per_style,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.style_fidelity", description=__doc__.split("\n\n")[0])
    p.add_argument("--real", type=Path, required=True, help="folder of style folders of real paintings")
    p.add_argument("--collection", type=Path, required=True, help="a collection folder with manifest.json")
    p.add_argument("--per-style", type=int, default=400, help="at most this many real paintings per style and split")
    p.add_argument("--upscaler", type=Path, default=None,
                   help="ONNX x4 upscaler: also judge held-out paintings reduced to 64 px and enlarged by it")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    if not 2 <= args.per_style <= MAX_PER_STYLE:
        p.error(f"--per-style must be from 2 to {MAX_PER_STYLE}")
    check_inputs(p, (args.real, args.collection), args.upscaler)
    try:
        result = run(args.real, args.collection, args.per_style, args.upscaler)
    except ValueError as exc:  # a bad manifest, too few images, or an upscaler that breaks the contract
        p.exit(2, f"error: {exc}\n")
    chance = 1 / len(result.per_style)
    print(f"{'style':22s} top-1: real  real64up  collection   spread: real  collection")
    for style, row in result.per_style.items():
        up = f"{row['heldout_upscaled']:9.2f}" if "heldout_upscaled" in row else f"{'':9s}"
        print(f"{style:22s} {row['heldout']:11.2f} {up} {row['collection_single']:6.2f} ({int(row['n_single']):3d})"
              f"   {row['spread_heldout']:12.2f} {row['spread_collection']:10.2f}")
    print(f"held-out real paintings, top-1: {result.heldout:.3f} (chance {chance:.3f})")
    if result.heldout_upscaled is not None:
        print(f"held-out real at 64 px through the upscaler: {result.heldout_upscaled:.3f}")
    single_lo, single_hi = share_interval(result.collection_single, result.n_single)
    mixed_lo, mixed_hi = share_interval(result.collection_mixtures, result.n_mixtures)
    print(f"collection, one-style paintings named in their style: {result.collection_single:.3f} "
          f"({result.n_single}, 95% {single_lo:.2f}-{single_hi:.2f}); mixtures named as one of their two: "
          f"{result.collection_mixtures:.3f} ({result.n_mixtures}, 95% {mixed_lo:.2f}-{mixed_hi:.2f}, "
          f"chance {2 * chance:.3f})")
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
