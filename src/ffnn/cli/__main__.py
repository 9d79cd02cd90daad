"""``python -m ffnn.cli ...``: the same as ``ffnn ...``."""
import sys

from . import main

sys.exit(main())
