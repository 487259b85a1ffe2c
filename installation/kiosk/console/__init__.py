"""The web console for gallery staff (docs/console.md), served by the kiosk's HTTP server (installation/kiosk/
http.py) under ``/console``: a live preview, the cue list and controls, the kiosk's state, the log tail,
show and image uploads, and the fleet of players sharing an MQTT broker.

The pages are plain HTML, CSS and JavaScript shipped in ``static/`` (no CDN, no build step); every piece of
data comes from JSON endpoints here and the existing ``/status`` and ``POST /control/...``. Access rules
are in :mod:`.auth`, the preview in :mod:`.preview`, uploads in :mod:`.shows`, the log in :mod:`.logtail`
and the fleet in :mod:`.fleet`; :mod:`.routes` ties them to requests.
"""

from installation.kiosk.console.routes import Console

__all__ = ["Console"]
