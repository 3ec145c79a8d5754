"""Constants of the bundle format shared by the Spark writer and the Spark-free reader."""

from __future__ import annotations

MANIFEST = "manifest.json"
FORMAT = "fraudmine-neo4j-bundle/1"
