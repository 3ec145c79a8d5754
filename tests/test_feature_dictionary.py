"""The feature dictionary covers every model feature, names where each is computed, and is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudmine.features import dictionary as fd


def test_every_feature_has_a_meaning_a_source_and_a_leakage_note() -> None:
    rows = fd.dictionary()
    assert len(rows) == sum(len(f) for f in fd.FEATURE_SETS.values())
    assert all(r.meaning and r.leakage and r.source != "-" for r in rows), [r for r in rows if r.source == "-"]
    assert "{e}" not in " ".join(r.meaning for r in rows)
    # no declared entry without a feature: a removed feature takes its documentation with it
    used = {n for f in fd.FEATURE_SETS.values() for n in f}
    assert set(fd.MEANINGS) == used
    assert set(fd.LEAKAGE) <= used and {n for _, n in fd.MEANING_BY_ENTITY} <= used


def test_sources_and_leakage_notes_follow_the_code() -> None:
    rows = {(r.entity_type, r.name): r for r in fd.dictionary()}
    assert rows[("merchant", "dup_cross_share")].source == "`dedup/listings.py`"
    assert rows[("merchant", "n_orders")].source == "`features/merchant.py`"
    assert "graph/cluster_features.py" in rows[("creator", "collusion_bad_members_oof")].source
    assert "out of fold" in rows[("creator", "collusion_bad_members_oof")].leakage
    assert "status" in rows[("merchant", "refund_rate")].leakage
    assert "scored at D only" in rows[("product", "n_orders")].leakage
    assert rows[("reporter", "n_reports")].meaning == "reports the reporter filed before D"


def test_a_feature_without_an_entry_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fd.FEATURE_SETS, "merchant", (*fd.FEATURE_SETS["merchant"], "brand_new_feature"))
    with pytest.raises(KeyError, match="'brand_new_feature' of merchant"):
        fd.dictionary()


def test_docs_feature_dictionary_is_up_to_date(repo_root: Path) -> None:
    assert (repo_root / "docs" / "feature-dictionary.md").read_text() == fd.render_markdown(), (
        "docs/feature-dictionary.md is stale: run `make features-doc`"
    )
