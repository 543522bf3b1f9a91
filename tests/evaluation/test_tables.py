"""The whole-region rows of the terrain card: real imagery first, each lattice period its own column."""

from areograph.evaluation.metrics import WHOLE_REGION_METRICS
from areograph.evaluation.tables import markdown_table, whole_region_rows

WHOLE = {
    "real": {"lattice": 6.3, "lattice_periods": {"2": 6.3, "4": 0.8}, "realism": 0.53, "water_iou": 0.98,
             "water_share": 0.4},
    "methods": {"pix2pix": {"lattice": 12.2, "lattice_periods": {"2": 8.0, "4": 12.2}, "realism": 0.95,
                            "water_iou": 0.97},
                "constant": {"lattice": 1e-30, "lattice_periods": {"2": 1e-31, "4": 1e-30}, "realism": 1.0,
                             "water_iou": 0.0}},
}  # fmt: skip


def test_whole_region_rows_and_their_card_table():
    metrics = {"regions": {"italy": {"methods": {}, "whole": WHOLE}, "ri": {"methods": {}}}}
    rows = whole_region_rows(metrics)
    assert [(r["region"], r["method"]) for r in rows] == [
        ("italy", "real imagery"), ("italy", "pix2pix"), ("italy", "constant")]  # fmt: skip
    assert rows[1]["lattice_4px"] == 12.2 and "water_share" not in rows[0]
    table = markdown_table(rows, WHOLE_REGION_METRICS, "pix2pix").splitlines()
    assert table[0] == (
        "| region | method | lattice | realism | water_iou | lattice_2px | lattice_4px |"
    )
    assert table[3] == "| italy | **pix2pix** | 12.2 | 0.95 | 0.97 | 8 | 12.2 |"
    assert table[4].startswith("| italy | constant | 0 | 1 | 0 | 0 | 0 |")


def test_no_whole_region_figures_no_rows():
    assert whole_region_rows({"regions": {"italy": {"methods": {}}}}) == []
