"""Shared test code that is not itself a test module (pytest collects nothing here).

Test modules never import each other: what several of them need lives here (``helpers.kiosk``: a kiosk under
test, over HTTP; ``helpers.faults``: files the fault tests break; ``helpers.selection``: a framed favourite in
the shipped pack, found rather than pinned; ``helpers.sagan``: a tiny SAGAN run's trainer arguments) or in
``tests/conftest.py`` (fixtures, paths).
Synthetic inputs that the benchmarks need too live in the library: :mod:`exporters.synthetic`.
"""
