"""Stage names in run order (import-light: used by the CLI without loading Spark)."""

STAGE_NAMES: tuple[str, ...] = (
    "validate",
    "graph",
    "duplicates",
    "clusters",
    "features",
    "train",
    "score",
    "decide",
    "report",
    "neo4j",
    "publish",
)
