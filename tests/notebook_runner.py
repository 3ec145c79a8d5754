"""Execute a Jupytext "percent" notebook headless, as a notebook (nbclient + an IPython kernel).

The notebooks in ``notebooks/`` are stored as ``# %%`` Python files (outputs stripped by
construction, clean diffs).  The tests run them the way Jupyter does: converted to a notebook in
memory by Jupytext and executed cell by cell by nbclient in a fresh ``python3`` kernel of this
environment, parameters passed as environment variables of the kernel.
"""

from __future__ import annotations

import os
from pathlib import Path


def run_notebook(path: Path, params: dict[str, str], timeout: int = 300) -> str:
    """Execute the notebook at ``path``; return the text of its stream outputs (stdout/stderr), in order.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised (the message names the cell and the error).
    """
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(path, fmt="py:percent")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env={**os.environ, **params})
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
    return "".join(texts)
