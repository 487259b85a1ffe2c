"""Maintainer tools that run outside the project's environment (e.g. with TensorFlow), never in CI."""
