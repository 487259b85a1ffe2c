"""The ``installation`` command line: parse, check the options, dispatch to the layer that does the work.

- :mod:`~installation.cli.app`: the parser (one subparser per command, a handler each) and :func:`main`
- :mod:`~installation.cli.args`: argument types shared by every command (bounded numbers, sizes, one-line errors)
- :mod:`~installation.exit_codes`: 0 success, 1 runtime failure, 2 usage or input error, 130 interrupted
- one module per command group: ``play`` (run), ``shows`` (validate, render), ``kiosk``, ``collection``
  (generate, order), ``emotions``, ``doctor``

Importing this package stays light (no torch, no ONNX Runtime, no GL): each handler imports what it needs.
"""

from installation.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
