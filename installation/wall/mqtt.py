"""The broker: its address and credentials, and one paho-mqtt client wrapper that reconnects by itself.

Players, the ``installation wall`` commands and the kiosk console all talk through this wrapper. paho's
network thread (``loop_start``) retries the connection with ``reconnect_delay_set`` (1 s doubling to 30 s)
whether the broker was down at start or went away later; nothing here ever blocks a render loop. Messages
published while disconnected are dropped unless asked to be queued (a stale status is worse than none).
Nothing listens here: a client only connects out, to loopback unless a broker address says otherwise.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT, DEFAULT_TLS_PORT = 1883, 8883
TOPIC_ROOT = "installation/wall"
ENV_PASSWORD = "INSTALLATION_WALL_PASSWORD"  # keeps the password out of the process list


@dataclass(frozen=True)
class BrokerConfig:
    """Where the broker is and how to log in: user/password, TLS (``ca_file`` to trust a private CA; a client
    certificate with ``cert_file``/``key_file``)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive: int = 5  # seconds: a player that vanishes is marked offline (last will) within ~1.5x this

    @classmethod
    def parse(cls, text: str, **options: Any) -> BrokerConfig:
        """``HOST``, ``HOST:PORT``, ``:PORT`` or ``[::1]:PORT`` (port 1883, 8883 with TLS, when not given);
        ``ValueError`` when the text is not an address."""
        text = text.strip()
        host, port = text, None
        if text.startswith("["):
            head, _, tail = text[1:].partition("]")
            host, port = head, tail.removeprefix(":") or None
        elif text.count(":") == 1:
            host, port = text.split(":")
        if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
            raise ValueError(f"broker {text!r}: expected HOST[:PORT], e.g. 127.0.0.1:1883")
        if not host and port is None:
            raise ValueError("broker: expected HOST[:PORT]")
        tls = bool(options.get("tls"))
        config = cls(host=host or DEFAULT_HOST, port=int(port) if port else (DEFAULT_TLS_PORT if tls else DEFAULT_PORT))
        options = {k: v for k, v in options.items() if v is not None}
        if options.get("username") and "password" not in options and os.environ.get(ENV_PASSWORD):
            options["password"] = os.environ[ENV_PASSWORD]
        return replace(config, **options)

    def __str__(self) -> str:
        who = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{who}{self.host}:{self.port}"


def topic(wall: str, *parts: str) -> str:
    """``installation/wall/<wall>/<parts...>``."""
    return "/".join((TOPIC_ROOT, wall, *parts))


Handler = Callable[[str, bytes, bool], None]  # topic, payload, retained


class MqttClient:
    """A paho client on its own network thread; ``handler(topic, payload, retained)`` runs on that thread."""

    def __init__(self, config: BrokerConfig, client_id: str, *, subscriptions: tuple[str, ...] = (),
                 handler: Handler | None = None, will: tuple[str, bytes] | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.config, self.subscriptions, self.handler = config, subscriptions, handler
        self.connected = threading.Event()
        self.connects = 0  # successful connections so far (1 + reconnects)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        if config.username:
            self._client.username_pw_set(config.username, config.password)
        if config.tls:
            self._client.tls_set(ca_certs=config.ca_file, certfile=config.cert_file, keyfile=config.key_file,
                                 cert_reqs=ssl.CERT_REQUIRED)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._started = False
        self._stopping = False

    def start(self) -> MqttClient:
        """Connect in the background (returns at once; the network thread keeps retrying)."""
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive)
        self._client.loop_start()
        self._started = True
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def publish(self, topic_name: str, payload: bytes, *, retain: bool = False, qos: int = 1,
                queue: bool = False, wait: float | None = None) -> bool:
        """Publish; False (and nothing queued, unless ``queue``) while disconnected. ``wait``: seconds to wait
        for the broker's acknowledgement."""
        if not self.connected.is_set() and not queue:
            return False
        info = self._client.publish(topic_name, payload, qos=qos, retain=retain)
        if wait is not None:
            try:
                info.wait_for_publish(wait)
            except (RuntimeError, ValueError):
                return False
            return info.is_published()
        return info.rc == 0

    def stop(self, final: tuple[str, bytes] | None = None) -> None:
        """Publish ``final`` (retained: e.g. an 'offline' status) when connected, then disconnect."""
        if not self._started:
            return
        if final is not None and self.connected.is_set():
            self.publish(final[0], final[1], retain=True, wait=1.0)
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._started = False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("wall: broker %s refused the connection: %s", self.config, reason)
            return
        self.connects += 1
        log.info("wall: connected to %s%s", self.config, " (again)" if self.connects > 1 else "")
        for name in self.subscriptions:
            client.subscribe(name, qos=1)
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self.connected.is_set() and not self._stopping:
            log.warning("wall: lost the broker %s (%s); reconnecting (playback goes on)", self.config, reason)
        self.connected.clear()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if self.handler is None:
            return
        try:
            self.handler(message.topic, bytes(message.payload), bool(message.retain))
        except Exception:  # a bad message must never kill the network thread
            log.exception("wall: cannot handle a message on %s", message.topic)
