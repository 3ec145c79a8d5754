"""What a person sees on the terminal: progress through ``logging``, errors as one line.

By default the ``fraudmine`` loggers print progress at INFO while the noise of
the libraries underneath (py4j, MLflow, alembic, Python warnings) is held at
ERROR, and Spark's own log4j output is silenced by the session factory.
``--verbose`` shows everything and keeps tracebacks.
"""

from __future__ import annotations

import logging
import os
import re

NOISY_LOGGERS = ("py4j", "mlflow", "alembic", "urllib3", "git", "matplotlib", "py.warnings", "numexpr")
_JAVA_EXC = re.compile(r"^(?:: )?((?:[a-z]\w*\.)+[A-Z]\w*(?:Exception|Error)\b.*)$")


def setup_logging(verbose: bool) -> None:
    """Configure the root logger for a command-line run.

    Args:
        verbose: log everything at INFO (library loggers and warnings included).
    """
    if not verbose:
        # MLflow installs its own INFO handler on import unless told not to.
        os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    logging.captureWarnings(True)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(asctime)s %(message)s"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt, datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("fraudmine").setLevel(logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)


def short_error(exc: BaseException) -> str:
    """One line describing ``exc``: its type and the first meaningful line of its message.

    A JVM error relayed by py4j ("An error occurred while calling o123.parquet. ...
    java stack") is reduced to the Java exception line.
    """
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if type(exc).__name__ == "Py4JJavaError":
        for ln in lines:
            m = _JAVA_EXC.match(ln)
            if m:
                return f"{type(exc).__name__}: {m.group(1)}"
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
