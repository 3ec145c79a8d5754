"""fraudmine: graph-based merchant and creator fraud mining.

This package owns the contracts (raw input schemas, typed ids, output schemas),
configuration, the Spark session factory, the synthetic marketplace generator,
input validation, evaluation and the ``fraudmine`` command line.  The pipeline
stages live in the sibling top-level packages ``graph``, ``features``,
``models`` and ``jobs``.
"""

__version__ = "0.1.0"
