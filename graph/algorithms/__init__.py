"""Graph algorithms behind one interface, with a choice of engine.

* :mod:`.local` — python-igraph on the driver after a collect (Leiden, Infomap, LPA, PageRank, components);
* :mod:`.spark_cc`, :mod:`.spark_lpa`, :mod:`.spark_pagerank` — plain Spark DataFrame algorithms
  (large-star/small-star connected components, semi-synchronous label propagation, weighted and
  personalised PageRank) for graphs that do not fit the driver;
* :mod:`.graphframes_engine` — GraphFrames when its JVM classes are on the classpath;
* :mod:`.engine` — the :class:`~.engine.GraphEngine` interface and :func:`~.engine.choose_engine`.
"""
