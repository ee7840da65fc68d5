"""``python -m simkit``: the same command line as ``simkit`` (:func:`simkit.cli.main`)."""

import sys

from simkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
