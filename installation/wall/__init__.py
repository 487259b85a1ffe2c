"""One show across many machines: viewports of one virtual canvas, a shared show epoch, and the fleet's
commands and telemetry through an MQTT broker (Mosquitto; paho-mqtt as the client).

    layout.py   the wall's geometry: grid with bezels -> named viewports; epochs (ISO 8601 | unix)
    mqtt.py     broker address and credentials, one paho client wrapper (reconnects by itself)
    commands.py the command schema and the retained command log (go, next, cue, blackout, reload)
    status.py   one player's retained status, the fleet list, content checks
    fleet.py    the small API the CLI and the kiosk's web console use: list the fleet, publish a command
    link.py     the player's side: apply scheduled commands, publish status (player layer)

Nothing here is imported by the single-screen path; paho is imported only when a broker is configured.
"""
