"""The run report: rendered from the Jinja2 template, then checked in a real headless Chromium."""

from __future__ import annotations

import dataclasses
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fraudmine.report import ReportData, render_report, stage_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that work on these machines (closed network, root, no GPU): see the environment notes.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MANIFEST = {
    "run_id": "2026-11-01-abc12345",
    "run_date": "2026-11-01",
    "code_version": "0.1.0+test",
    "dataset_id": "synth-xs-11-abc",
    "fingerprints": {"inputs": {}, "code": "code123", "config": "cfg123", "policy": "pol123"},
    "stages": {
        "validate": {
            "status": "committed",
            "duration_s": 3.5,
            "rows_in": {"orders": 10, "products": 5},
            "rows_out": {"orders": 9, "products": 5, "quarantine": 1},
        },
        "graph": {"status": "committed", "duration_s": 2.0, "rows_in": {}, "rows_out": {"nodes.merchant": 3}},
        "decide": {
            "status": "committed",
            "duration_s": 1.25,
            "rows_in": {"moderation_queue": 7},
            "rows_out": {"decisions": 7},
        },
        "report": {"status": "running", "duration_s": None, "rows_in": {}, "rows_out": {}},
    },
}

KPIS = {
    "items": 7,
    "policy_version": "2026-12-02",
    "model_version": "mv1",
    "automation_rate": 3 / 7,
    "expected_precision": {"auto_reject": 0.79, "queued_review": 0.35},
    "expected_clean_share_of_capacity": 0.65,
    "queue": {
        "review_capacity": 2,
        "escalate_capacity": 5,
        "review_pool": 3,
        "escalate_pool": 1,
        "exploration_pool": 0,
        "exploration_slots": 0,
        "queued_review": 2,
        "queued_escalate": 1,
        "exploration": 0,
        "deferred": 1,
        "over_capacity_approved": 0,
        "load": 1.5,
        "utilisation": 1.0,
        "over_capacity_default": "defer",
        "expected_loss_queued_share": 0.4,
    },
    "by_action": {"approve": 0, "review": 3, "reject": 3, "escalate": 1},
    "by_item_type": [
        {"item_type": "product_listing", "action": "reject", "items": 1},
        {"item_type": "product_listing", "action": "review", "items": 3},
        {"item_type": "live_session", "action": "escalate", "items": 1},
        {"item_type": "video", "action": "reject", "items": 2},
    ],
    "by_primary_reason": [{"primary_reason": "SELLER_FRAUD_CRITICAL", "items": 2}],
    "by_reason": [{"reason": "SELLER_FRAUD_CRITICAL", "items": 3}],
    "rule_hits": {"critical_seller": 2},
    "realised_precision": [{"action": "reject", "route": "policy", "outcomes": 4, "correct": 3, "precision": 0.75}],
    "inputs": {"scores.merchant": True, "scores.product": False, "clusters.collusion": False},
    "inactive_rules": {"critical_listing": ["scores.product"]},
}


def _data() -> ReportData:
    hist = pd.DataFrame({"entity_type": ["merchant"] * 3, "bin": [0, 10, 19], "count": [50, 5, 2]})
    # bands deliberately out of order: the report must show low -> critical
    bands = pd.DataFrame(
        {"entity_type": ["merchant"] * 4, "risk_band": ["high", "critical", "low", "medium"], "count": [5, 2, 40, 10]}
    )
    top = pd.DataFrame(
        {
            "entity_type": ["merchant", "merchant"],
            "entity_id": ["m1", "m2"],
            "fraud_risk": [0.95, 0.6],
            "risk_band": ["critical", "high"],
            "top_reasons": [["shared_identifiers"], []],
        }
    )
    cal = pd.DataFrame(
        {"entity_type": ["merchant"] * 3, "p_mean": [0.05, 0.5, 0.9], "y_mean": [0.04, 0.45, 0.93], "n": [100, 20, 10]}
    )
    queue_top = pd.DataFrame(
        {
            "item_id": ["q5"],
            "item_type": ["product_listing"],
            "action": ["review"],
            "primary_reason": ["REJECTED_PEERS_MONEY"],
            "expected_loss": [12.5],
            "queue_rank": [1],
            "evidence": [
                ["shares a payment instrument with 3 rejected merchants (m1, m2, m3)", "<script>alert(1)</script>"]
            ],
        }
    )
    clusters = pd.DataFrame(
        {
            "kind": ["collusion"],
            "cluster_id": ["C17"],
            "size": [6],
            "risk": [0.85],
            "evidence": ["shared payment instruments"],
        }
    )
    drift = {
        "previous_run": "2026-10-31",
        "psi": [{"model": "merchant/fraud_risk", "psi": 0.31}],
        "bands": pd.DataFrame(
            {
                "entity_type": ["merchant"] * 2,
                "risk_band": ["low", "low"],
                "run": ["previous", "this"],
                "share": [0.7, 0.6],
            }
        ),
        "actions": [{"action": "reject", "previous": 2, "this": 3}],
    }
    return ReportData(
        manifest=MANIFEST,
        kpis=KPIS,
        quarantine=pd.DataFrame({"table": ["orders"], "reason_code": ["dangling_fk"], "rows": [1]}),
        hist=hist,
        bands=bands,
        top_entities=top,
        calibration=cal,
        calibration_source="labels before D",
        clusters=clusters,
        cluster_kinds_missing=["brushing"],
        queue_top=queue_top,
        rejects_top=pd.DataFrame(),
        review_losses=[12.5, 3.0, 1.0],
        drift=drift,
    )


class _Tables(HTMLParser):
    """Collects the cell texts of the tables with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._id = dict(attrs).get("id")
            if self._id:
                self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self.tables[self._id].append([])
        elif tag in ("td", "th") and self._id:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._id and self._cell is not None:
            self.tables[self._id][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_stage_rows_are_correct() -> None:
    rows = {r["stage"]: r for r in stage_rows(MANIFEST, "report")}
    assert rows["report"]["status"] == "rendering (this report)" and rows["report"]["duration_s"] is None
    assert rows["graph"]["rows_in"] is None  # not recorded, not "0"
    assert rows["validate"]["rows_in"] == 15


def test_report_template_renders_every_section() -> None:
    page = render_report(_data())
    parser = _Tables()
    parser.feed(page)
    stages = {r[0]: r for r in parser.tables["stage-table"][1:]}
    assert stages["report"][1] == "rendering (this report)" and ">nan<" not in page.lower()
    assert stages["graph"][2] == "not recorded" and stages["validate"][2] == "15"
    assert [r[1] for r in parser.tables["band-table"][1:]] == ["low", "medium", "high", "critical"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page  # autoescaped
    for needle in ("42.9%", "critical_listing", "scores.product", "C17", "0.310", "75.0%", "no cluster tables"):
        assert needle.lower() in page.lower(), needle
    assert page.count("data:image/png;base64,") == 6


@pytest.mark.slow
def test_report_in_a_real_headless_browser(tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    html = tmp_path / "report.html"
    html.write_text(render_report(_data()))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS[1:], headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            images: list[dict[str, Any]] = page.eval_on_selector_all(
                "img", "els => els.map(e => ({alt: e.alt, w: e.naturalWidth, h: e.naturalHeight, shown: e.width}))"
            )
            stage_status = page.inner_text("#stage-table tbody tr:last-child td:nth-child(2)")
            bands = page.eval_on_selector_all(
                "#band-table tbody tr td:nth-child(2)", "els => els.map(e => e.textContent)"
            )
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            kpi_text = page.inner_text("#kpis + .cards")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not errors
    assert len(images) == 6 and all(i["w"] > 100 and i["h"] > 100 and i["shown"] > 0 for i in images), images
    assert stage_status == "rendering (this report)"
    assert bands == ["low", "medium", "high", "critical"]
    assert overflow <= 0, "the report scrolls sideways"
    assert "42.9%" in kpi_text and "79.0%" in kpi_text
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_report_renders_a_run_with_an_empty_queue() -> None:
    """A backfill date often has no pending items: no decisions plot, the rest of the report still renders."""
    data = _data()
    kpis = {**data.kpis, "items": 0, "by_item_type": [], "by_action": {}} if data.kpis else None
    page = render_report(dataclasses.replace(data, kpis=kpis, review_losses=[]))
    assert "decisions by item type and action" not in page and 'id="kpis"' in page
    assert page.count("data:image/png;base64,") == 4  # no actions plot, no capture curve
