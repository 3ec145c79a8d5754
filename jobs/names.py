"""Stage names in run order (import-light: used by the CLI without loading Spark)."""

STAGE_NAMES: tuple[str, ...] = (
    "validate",
    "graph",
    "clusters",
    "duplicates",
    "features",
    "train",
    "score",
    "decide",
    "report",
    "neo4j",
    "publish",
)
