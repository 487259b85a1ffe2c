"""The trainer arguments of a tiny SAGAN run (a few thousand parameters, seconds a step), for the tests of
``models.train sagan`` and of widening its checkpoints."""

TINY = ["--g-channels", "4", "--d-channels", "4", "--latent-dim", "8", "--batch-size", "4", "--threads", "1",
        "--quiet", "--ema-start", "1"]
