"""Exit codes of every command line in the repository (``installation``, ``python -m exporters``,
``python -m models.train``), defined once. The README's "Exit codes" section lists them.

- ``OK`` (0): done.
- ``FAILURE`` (1): a runtime failure: a broken environment (no OpenGL, a library missing), ``doctor`` finding a
  problem, a bug.
- ``USAGE`` (2): a usage or input error the operator can fix: a bad option, an invalid show or schedule, a model
  file that breaks its contract, an output path or port that cannot be used. One line on stderr, no traceback.
- ``INTERRUPTED`` (130): stopped with Ctrl-C (128 + SIGINT, as shells report it).
"""

from __future__ import annotations

OK = 0
FAILURE = 1
USAGE = 2
INTERRUPTED = 130
