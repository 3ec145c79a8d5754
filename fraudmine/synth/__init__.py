"""Synthetic marketplace generator with planted fraud typologies and ground truth.

Public API: :func:`generate` and the named :data:`SCALES`.
"""

from fraudmine.synth.generator import generate
from fraudmine.synth.scales import SCALES

__all__ = ["SCALES", "generate"]
