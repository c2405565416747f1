"""``python -m applied_ml.cli``, the same as the ``applied-ml`` command."""

import sys

from applied_ml.cli import main

if (
    __name__ == "__main__"
):  # importing the module (as the package walk does) runs nothing
    sys.exit(main())
