"""``HOST:PORT`` text -> ``(host, port)``: one parser for command-line options and environment variables.

Imports nothing from ``installation``: the player's link to the kiosk (environment variables) and the
kiosk's ``--http``/``--osc`` options both use it.
"""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"


def parse_address(text: str, name: str = "address") -> tuple[str, int]:
    """``"8080"`` / ``":8080"`` / ``"0.0.0.0:8080"`` / ``"[::1]:8080"`` -> (host, port); the host defaults to
    127.0.0.1 (loopback: nothing is exposed unless asked for). ValueError naming ``name`` when bad."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{name} {text!r}: expected HOST:PORT or PORT, e.g. 127.0.0.1:8080")
    return host, int(port)
