"""Realism benchmark of a generated marketplace: can trivial methods find the planted fraud?"""

from fraudmine.synth.realism.bench import run_realism

__all__ = ["run_realism"]
