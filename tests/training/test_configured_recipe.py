"""One recipe builder: a study's trials and ``scaling-search train`` set lr, batch and augmentation the same way."""

from __future__ import annotations

import pytest

from scaling_search.data.augment import Augmentation
from scaling_search.errors import InputError
from scaling_search.study.definition import StudyDefinition
from scaling_search.training.recipe import RECIPES, configured_recipe


def test_unset_options_keep_the_recipe_and_set_ones_replace_its_values():
    assert configured_recipe("paper") == RECIPES["paper"]
    recipe = configured_recipe("proxy", lr=0.5, batch_size=32, augmentation=Augmentation.named("flip"))
    assert (recipe.lr_per_256, recipe.train_batch_size, recipe.augmentation) == (0.5, 32, Augmentation.named("flip"))
    assert recipe.optimizer == RECIPES["proxy"].optimizer


def test_a_study_definition_builds_its_recipe_here():
    definition = StudyDefinition(recipe="paper", lr=0.02, batch_size=48)
    assert definition.training_recipe() == configured_recipe("paper", lr=0.02, batch_size=48)


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="unknown recipe 'fast'"):
        configured_recipe("fast")
    with pytest.raises(InputError, match="train_batch_size must be >= 1, got 0"):
        configured_recipe("proxy", batch_size=0)
