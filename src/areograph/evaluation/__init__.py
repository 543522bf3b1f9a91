"""Evaluation: the metric maths, the baselines, each product's evaluation and the report tables.

Two layers share this package (docs/architecture.md, tests/test_architecture.py). The maths sits low,
beside ``geo`` and ``images``, so the renderer may use it: ``image_metrics`` (per-image figures),
``texture``, ``lattice``, ``realism``, ``shoreline`` and ``baselines``. Above the renderer and config:
``metrics`` (the metric tables: every published figure, one entry each), ``figures`` (the example grid,
the metrics plot), ``tables`` (the metrics JSON, its HTML and Markdown tables), ``cards`` (model cards),
and the evaluations ``terrain`` and ``colour``. This file imports nothing, so importing the maths never
loads the upper layer.
"""
