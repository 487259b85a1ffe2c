"""``python -m installation.cli``: the same as the ``installation`` command."""

import sys

from installation.cli.app import main

sys.exit(main())
