"""Node classification on labelled graphs: bundle reader, splits, features, models, benchmark.

Behind ``fraudmine bench nodes`` (see :mod:`fraudmine.models.nodes.bench`).  Pure numpy/scipy
for data and features; LightGBM and a PyG GraphSAGE for the models.
"""
