"""The notebook runs top to bottom, and the committed copy holds a full run.

``test_notebook_runs_in_fast_mode`` executes ``notebooks/MNIST_classification.ipynb``
with nbclient in fast mode (``FFNN_NOTEBOOK_FAST=1``: tiny subsets, 2 epochs),
in a kernel started from this interpreter, and fails if any cell raises.
"""
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

# The notebook imports the frameworks in its kernel, not here: check they are there without importing them.
pytestmark = [pytest.mark.torch, pytest.mark.tf] + [
    pytest.mark.skipif(importlib.util.find_spec(m) is None, reason=f"the notebook needs {m}")
    for m in ("ipykernel", "torch", "tensorflow")]

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "MNIST_classification.ipynb"
CELL_TIMEOUT_S = 300  # generous: the machine may be shared; fast mode takes seconds per cell


def _text(cell) -> str:
    """Everything a code cell printed (streams and plain-text results)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
        elif "data" in out and "text/markdown" in out["data"]:
            parts.append(out["data"]["text/markdown"])
    return "".join(parts)


def _kernel_manager(tmp_path) -> KernelManager:
    """A kernel that runs ``sys.executable`` (the venv's python), whatever "python3" resolves to elsewhere."""
    spec_dir = tmp_path / "kernels" / "ffnn-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ffnn test kernel", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return KernelManager(kernel_name="ffnn-test", kernel_spec_manager=specs)


@pytest.mark.slow
def test_notebook_runs_in_fast_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("FFNN_NOTEBOOK_FAST", "1")  # inherited by the kernel process
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = nbclient.NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert Path(_text(code[-1]).strip()) == Path(sys.executable)
    printed = "\n".join(_text(c) for c in code)
    assert printed.startswith("fast mode: 1,000 training, 500 validation, 500 test images")
    # Each training printed its per-epoch progress: the shared line twice (NumPy, PyTorch), Keras's own.
    assert printed.count("Epoch: 2, Training Time:") == 2
    assert "Epoch 2/2" in printed
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # three accuracy curves, the misclassified digits, the overlay


def test_committed_notebook_holds_a_full_run():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run it top to bottom, once"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert _text(code[0]).startswith("full mode: 50,000 training, 10,000 validation, 10,000 test images")
    assert sum("image/png" in o.get("data", {}) for c in code for o in c.outputs) >= 5
    assert os.path.getsize(NOTEBOOK) < 2_000_000
