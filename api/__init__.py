"""The risk score lookup API (FastAPI) over the published run's serving snapshot.

Entry points: :func:`fraudmine.api.app.create_app` (``create_app(settings, store)``)
and ``fraudmine serve``.  Depends on the serving-snapshot contract
(:mod:`fraudmine.contracts.serving`) only: never pyspark, torch or the pipeline
packages (import-linter and ``tests/test_packaging.py`` check it).
"""
