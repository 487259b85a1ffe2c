#!/usr/bin/env bash
# One command for a gallery operator: set everything up, then run the main job.
set -euo pipefail
cd "$(dirname "$0")"
./bootstrap.sh
# Until the show player lands (issue 3) the main job checks the default model pack end to end.
exec .venv/bin/installation doctor "$@"
