"""``python -m applied_ml.cli``, the same as the ``applied-ml`` command."""

import sys

from applied_ml.cli import main

sys.exit(main())
