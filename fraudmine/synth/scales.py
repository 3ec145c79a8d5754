"""Named dataset scales: entity counts and streaming block size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Size of one generated marketplace.

    Attributes:
        name: scale name (``xs``, ``s``, ``m``, ``l``).
        merchants: number of shops; products, orders, reviews, reports and
            promotions are drawn per merchant (about 10, 40, 10, 2 and 2).
        creators_per_merchant: creators as a fraction of merchants.
        buyers_per_merchant: background buyer accounts per merchant.
        block_merchants: merchants per streamed block (bounds memory).
    """

    name: str
    merchants: int
    creators_per_merchant: float = 0.3
    buyers_per_merchant: int = 10
    block_merchants: int = 20_000

    @property
    def creators(self) -> int:
        """Number of creators."""
        return max(10, round(self.merchants * self.creators_per_merchant))

    @property
    def buyers(self) -> int:
        """Number of background buyers (fake buyers and reporters come on top)."""
        return self.merchants * self.buyers_per_merchant


SCALES: dict[str, Scale] = {
    "xs": Scale("xs", 1_000, block_merchants=400),
    "s": Scale("s", 10_000, block_merchants=5_000),
    "m": Scale("m", 100_000),
    "l": Scale("l", 1_000_000),
}


def get_scale(name: str) -> Scale:
    """Return the scale called ``name``.

    Raises:
        ValueError: naming the known scales.
    """
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; known: {sorted(SCALES)}") from None
