"""Run the ffnn benchmark: ``python benchmarks/bench.py [--quick] [--json PATH]``.

The same as ``ffnn bench``; see ``benchmarks/README.md`` and :mod:`ffnn.bench`.
"""
import sys
from pathlib import Path

try:
    from ffnn.cli import main
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from ffnn.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
