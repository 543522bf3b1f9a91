"""Model cards: the training line says when a model was fine-tuned from another file."""

from __future__ import annotations

from areograph.evaluation.cards import steps_line


def test_a_fine_tuned_model_names_the_weights_it_started_from() -> None:
    assert steps_line({"step": 5000, "train_config": {"init_from": None}}) == "5000 steps"
    tuned = {"step": 1500, "train_config": {"init_from": "weights/terrain_pix2pix_stage1/model.pt"}}
    assert steps_line(tuned) == "1500 steps, fine-tuning `weights/terrain_pix2pix_stage1/model.pt`"
