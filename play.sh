#!/usr/bin/env bash
# One command for a gallery operator: set everything up, then run the main job.
set -euo pipefail
cd "$(dirname "$0")"
./bootstrap.sh
# The main job: play the default show (Gradual Change) full-screen. With no display it says so in one line
# and renders the show to renders/gradual_change.mp4 instead. Arguments go to `installation run`.
exec .venv/bin/installation run "$@"
