"""Fingerprints that decide whether a committed stage output is still valid.

Three things can make an output stale: the input tables, the effective config
and the code.  Each gets a fingerprint recorded in the run manifest:

* input tables - per table, from every data file: Parquet files by size,
  modification time and the bytes of their footer (row counts, column chunk
  offsets and statistics: an edit that keeps the size changes them; reading a
  footer costs one small read per file, so this stays cheap at scale l), other
  files (CSV, ``.csv.gz``) by a SHA-256 of their content;
* config - the result-affecting sections only (``paths``, ``spark`` and
  ``neo4j`` change where and how a run executes, not what it computes), plus
  the content of the decision policy file;
* code - a hash of the pipeline's Python sources (everything in the package
  except the command line and the API), so an uncommitted edit counts too.

:func:`stage_keys` chains them: each stage's key hashes its own config slices
and the previous stage's key, like a build system's action keys, so a change
invalidates the first affected stage and everything after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import fraudmine
from fraudmine.config import Config

_FOOTER_TAIL = 8  # 4-byte little-endian footer length + b"PAR1"
_CHUNK = 1 << 20
# Sections of the config that do not change what a run computes.
NON_RESULT_SECTIONS = ("paths", "spark", "neo4j")
# Package folders whose code does not run inside the pipeline's stages.
_NON_PIPELINE_CODE = ("cli", "api")


def _data_files(table_dir: Path) -> list[Path]:
    """Data files of a table (a single file, or a folder walked recursively), as Spark sees them."""
    if table_dir.is_file():
        return [table_dir]
    files: list[Path] = []
    for root, dirs, names in os.walk(table_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith((".", "_")))
    return files


def _parquet_footer(path: Path) -> bytes:
    """The Thrift footer of a Parquet file (empty if the file is too short to have one)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size < _FOOTER_TAIL:
            return fh.read()
        fh.seek(size - _FOOTER_TAIL)
        tail = fh.read(_FOOTER_TAIL)
        (length,) = struct.unpack("<I", tail[:4])
        fh.seek(max(0, size - _FOOTER_TAIL - length))
        return fh.read(length) + tail


def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def table_fingerprint(table_dir: Path) -> str:
    """Fingerprint of one raw table (see the module docstring); ``"missing"`` if absent.

    Args:
        table_dir: the table's folder (or single file).

    Returns:
        16 hex characters.
    """
    if not table_dir.exists():
        return "missing"
    h = hashlib.sha256()
    for f in _data_files(table_dir):
        st = f.stat()
        rel = f.relative_to(table_dir) if table_dir.is_dir() else Path(f.name)
        if f.name.endswith(".parquet"):
            h.update(f"{rel}|{st.st_size}|{st.st_mtime_ns}|".encode())
            h.update(hashlib.sha256(_parquet_footer(f)).digest())
        else:
            h.update(f"{rel}|{st.st_size}|{_content_hash(f)}".encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def input_fingerprints(input_dir: Path, tables: Sequence[str]) -> dict[str, str]:
    """Per-table fingerprints of the raw input folder."""
    return {t: table_fingerprint(input_dir / t) for t in tables}


def code_fingerprint(package_dir: Path | None = None) -> str:
    """Hash of the pipeline's Python sources (the package minus ``cli`` and ``api``).

    Follows the package's symlinked subpackages (``fraudmine/graph -> ../graph``).
    """
    root = package_dir or Path(fraudmine.__file__).resolve().parent
    h = hashlib.sha256()
    for dirpath, dirs, names in os.walk(root, followlinks=True):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir.parts[:1] and rel_dir.parts[0] in _NON_PIPELINE_CODE:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for n in sorted(names):
            if n.endswith(".py"):
                h.update(f"{rel_dir / n}\n".encode())
                h.update((Path(dirpath) / n).read_bytes())
    return h.hexdigest()[:16]


def effective_config(cfg: Config) -> dict[str, Any]:
    """The resolved config as JSON data, secrets removed (recorded in the manifest)."""
    data = cfg.model_dump(mode="json")
    data["neo4j"].pop("password", None)
    return data


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping → ``{"a.b.c": value}``."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_slice(config: Mapping[str, Any], dotted: Sequence[str]) -> dict[str, Any]:
    """The flattened config entries under each of the ``dotted`` prefixes."""
    flat = flatten(config)
    return {k: v for k, v in sorted(flat.items()) if any(k == d or k.startswith(d + ".") for d in dotted)}


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-serialisable parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def result_config_fingerprint(config: Mapping[str, Any], policy_hash: str) -> str:
    """Fingerprint of the result-affecting config (sections outside :data:`NON_RESULT_SECTIONS`)."""
    return digest({k: v for k, v in config.items() if k not in NON_RESULT_SECTIONS}, policy_hash)


def stage_keys(
    stages: Sequence[tuple[str, Sequence[str]]],
    config: Mapping[str, Any],
    inputs: Mapping[str, str],
    code: str,
    extras: Mapping[str, str],
) -> dict[str, str]:
    """Chained validity keys, one per stage, in run order.

    Args:
        stages: ``(name, config prefixes)`` in run order.
        config: the effective config (:func:`effective_config`).
        inputs: per-table input fingerprints (all feed the first stage).
        code: :func:`code_fingerprint`.
        extras: per stage, anything else its output depends on (the run id of the
            stages that write it, the policy file's hash).

    Returns:
        Stage name → key.  A stage's key changes when its own slice changes or when
        any earlier stage's key does.
    """
    keys: dict[str, str] = {}
    prev = digest(dict(sorted(inputs.items())), code)
    for name, prefixes in stages:
        prev = digest(prev, name, config_slice(config, prefixes), extras.get(name, ""))
        keys[name] = prev
    return keys


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two manifests' fingerprints and configs.

    Args:
        old: the committed run's manifest data.
        new: the header this run would write.

    Returns:
        Lines such as ``input table 'orders' changed`` or
        ``config model.n_estimators: 300 -> 120``; empty when nothing differs.
    """
    lines: list[str] = []
    old_fp, new_fp = old.get("fingerprints", {}), new.get("fingerprints", {})
    old_in, new_in = old_fp.get("inputs", {}), new_fp.get("inputs", {})
    for t in sorted(set(old_in) | set(new_in)):
        if old_in.get(t) != new_in.get(t):
            lines.append(f"input table {t!r} changed")
    if old_fp.get("code") != new_fp.get("code"):
        ov, nv = old.get("code_version"), new.get("code_version")
        if ov == nv:  # same version string: the source files differ (uncommitted edits, another checkout)
            oc, nc = str(old_fp.get("code"))[:12], str(new_fp.get("code"))[:12]
            lines.append(f"code changed (version {nv}, source hash {oc} -> {nc}: edited files)")
        else:
            lines.append(f"code changed ({ov} -> {nv})")
    old_cfg, new_cfg = flatten(old.get("config", {})), flatten(new.get("config", {}))
    for k in sorted(set(old_cfg) | set(new_cfg)):
        if k.split(".")[0] in NON_RESULT_SECTIONS:
            continue
        if old_cfg.get(k) != new_cfg.get(k):
            lines.append(f"config {k}: {old_cfg.get(k)!r} -> {new_cfg.get(k)!r}")
    if old_fp.get("policy") != new_fp.get("policy"):
        lines.append("decision policy file changed")
    return lines
