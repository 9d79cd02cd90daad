"""``python -m ffnn.theory --out DIR [--fast]``."""
import sys

from . import main

sys.exit(main())
