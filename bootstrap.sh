#!/usr/bin/env bash
# Set up everything this project needs on a fresh machine: system packages (when root), a virtual
# environment in .venv, the project with its training and test extras. Idempotent and quick when
# nothing changed (a stamp records what was installed). Used by ./play.sh, ./test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

# System libraries for headless OpenGL (EGL on Mesa llvmpipe), a virtual display for window tests, and
# headless Chromium with its driver for the web console's browser tests (tests/test_console_browser.py),
# and the Mosquitto MQTT broker the wall tests start on loopback (tests/test_wall.py).
APT_PACKAGES="libegl1 libgl1 libgl1-mesa-dri libglx-mesa0 xvfb xauth chromium chromium-driver mosquitto x11-xserver-utils"
if command -v apt-get >/dev/null && ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "bootstrap: installing system packages: $APT_PACKAGES"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $APT_PACKAGES) \
      >/tmp/installation-apt.log 2>&1 || echo "bootstrap: apt-get failed (see /tmp/installation-apt.log); GL tests may skip"
  else
    echo "bootstrap: please install: sudo apt-get install $APT_PACKAGES"
  fi
fi

[ -x $VENV/bin/python ] || "$PY" -m venv $VENV
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat $STAMP 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python packages into $VENV (first run takes a few minutes)"
  $VENV/bin/python -m pip install -q --upgrade pip
  # torch first, from the pin: a plain 'torch' requirement would pull a multi-GB CUDA build.
  $VENV/bin/python -m pip install -q -c constraints.txt torch
  $VENV/bin/python -m pip install -q -c constraints.txt -e ".[train,dev]"
  echo "$want" > $STAMP
fi
