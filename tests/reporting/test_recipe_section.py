"""Every study report says how its recipe differs from the TF reference's (issue #22)."""

from __future__ import annotations

from dataclasses import replace

import optuna

from scaling_search.reporting.recipe_section import REFERENCE_RUN, RunLength, recipe_lines, recipe_rows
from scaling_search.training.recipe import RECIPES, TF_REFERENCE
from tests.reporting.test_report import WINNER, make_study, report


def rows_by_aspect(recipe, run, resolution=32):
    return {row.aspect: row for row in recipe_rows(recipe, run, resolution)}


def test_the_paper_recipe_differs_from_the_reference_in_length_batch_crops_and_autoaugment_not_in_optimizer():
    rows = rows_by_aspect(RECIPES["paper"], RunLength(epochs=2, images=3000, batch=64, steps=92))
    assert not rows["optimizer"].differs and not rows["weight decay"].differs
    assert rows["optimizer"].reference == "RMSProp in TensorFlow's form, decay 0.9, momentum 0.9, ε 0.001"
    average = rows["weight average (EMA)"]
    assert average.study.startswith("decay 0.9999 with TensorFlow's warm-up, min(0.9999, (1 + t) / (10 + t))")
    assert average.study.endswith("at the last step (92) the decay is 0.9118")  # 93 / 102, far below the cap
    assert average.reference.endswith("at the last step (109,475) the decay is 0.9999")
    assert rows["schedule"].study == ("linear warm-up over 1.43 % of the run (1 step), then × 0.97 every 2.4 epochs, "
                                      "in steps (none within the run)")
    assert rows["schedule"].reference == ("linear warm-up over 5 epochs (1,564 steps), then × 0.97 every 2.4 epochs, "
                                          "in steps (145 decays in the run)")
    assert rows["augmentation"].reference.endswith(", flips, AutoAugment")
    assert rows["augmentation"].study.endswith(", flips, no AutoAugment")
    assert rows["training length"].study == "2 epochs of 3,000 images: 92 optimizer steps"
    assert rows["training length"].reference == "350 epochs of 1,281,167 images: 109,475 optimizer steps"
    assert rows["peak learning rate"].study == "0.016 per 256 images: 0.004 at batch 64"


def test_the_proxy_recipe_has_no_weight_average_and_a_cosine_schedule():
    rows = rows_by_aspect(RECIPES["proxy"], RunLength(epochs=2, images=1000, batch=64, steps=30))
    assert rows["weight average (EMA)"].study == "none: the last weights are evaluated"
    assert rows["optimizer"].study == "SGD, Nesterov momentum 0.9"
    assert rows["schedule"].study == ("linear warm-up over 0.3 epochs (4 steps), then cosine to zero at the end of "
                                      "the run")
    assert rows["augmentation"].study == "no crops, no flips, no AutoAugment"
    assert [aspect for aspect, row in rows.items() if not row.differs] == ["label smoothing"]


def test_the_reference_against_itself_differs_only_in_autoaugment_which_this_trainer_lacks():
    rows = recipe_rows(TF_REFERENCE, REFERENCE_RUN, 224)
    assert [row.aspect for row in rows if row.differs] == ["augmentation"]
    lines = recipe_lines("reference", rows)
    assert "1 of 11 rows differ" in lines[2]
    assert lines[-2] == "| base network's resolution | 224 px | same |"


def test_a_study_report_lists_its_recipe_against_the_reference_with_its_step_count(tmp_path):
    definition = make_study(tmp_path, "paper-recipe", WINNER)
    study = optuna.load_study(study_name="paper-recipe", storage=definition.storage_url())
    study.set_user_attr("definition", replace(definition, recipe="paper").to_dict())
    study.set_user_attr("train_images", 500)  # under the CPU default cap of 1,000: 7 steps of 64 an epoch
    assert report(tmp_path, "paper-recipe") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    section = index.split("## Recipe against the reference")[1].split("## How this was made")[0]
    assert "How each run of this study trained (the `paper` recipe)" in section
    assert "| optimizer | RMSProp in TensorFlow's form, decay 0.9, momentum 0.9, ε 0.001 | same |" in section
    assert "| training length | 350 epochs of 1,281,167 images: 109,475 optimizer steps | 2 epochs of 500 images: " \
           "14 optimizer steps |" in section
    assert "at the last step (14) the decay is 0.6" in section  # 15 / 24
    assert "| schedule | linear warm-up over 5 epochs (1,564 steps)" in section


def test_a_study_that_did_not_record_its_training_split_says_so(tmp_path):
    make_study(tmp_path, "unrecorded", WINNER)
    assert report(tmp_path, "unrecorded") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "| weight average (EMA) | decay 0.9999" in index and "| none: the last weights are evaluated |" in index
    assert "2 epochs; optimizer steps not recorded (the study did not store its training split's size)" in index
