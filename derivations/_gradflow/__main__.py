"""``python -m gradflow``: the ``gradflow`` command."""

import sys

from gradflow.derivations.cli import main

sys.exit(main())
