"""Training entry points: ``python -m models.train {sagan,sasr,encoder,emotion} --data BUNDLE ...``."""
