"""Model comparison on a nightly run and the generator's truth: tabular vs graph-feature LightGBM vs GNN vs hybrid.

Behind ``bench/bench_models_synth.py``.  Pure parts: per-typology label vectors (:mod:`.targets`),
stratified population splits (:mod:`.splits`), AUPRC and recall at a review budget
(:mod:`.metrics`), out-of-fold GNN features for the hybrid (:mod:`.oof`); :mod:`.run` fits the
models of one entity type on those splits.
"""
