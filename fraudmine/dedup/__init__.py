"""Near-duplicate listings and the brand library.

Normalisation (:mod:`.normalize`) → blocking as a union of measured candidate generators
(:mod:`.blocking`; Spark MinHash in :mod:`.spark_lsh`) → pair features (:mod:`.features`) →
unsupervised threshold (:mod:`.threshold`: mixture models) or supervised LightGBM matcher
(:mod:`.matcher`) → clustering with chaining control (:mod:`.cluster`); the brand library in
:mod:`.brands` and :mod:`.violations`.  Importing this package (all but :mod:`.spark_lsh`) needs
neither pyspark, torch nor the embedding model: :mod:`.embed` loads them only when asked.
"""
