"""``python -m models.train {sagan,sasr,encoder,emotion} --data BUNDLE --out RUN [...]``."""

from __future__ import annotations

import importlib
import sys

TRAINERS = {
    "sagan": "models.train.sagan",
    "sasr": "models.train.sasr",
    "encoder": "models.train.encoder",
    "emotion": "models.train.emotion",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in TRAINERS:
        print(f"usage: python -m models.train {{{','.join(TRAINERS)}}} --data BUNDLE --out RUN [options]\n"
              "       python -m models.train NAME --help  for a trainer's options", file=sys.stderr)
        return 2
    module = importlib.import_module(TRAINERS[argv[0]])
    try:
        return module.main(argv[1:])
    except (FileNotFoundError, ValueError) as exc:  # bad data or checkpoint paths: one readable line
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
