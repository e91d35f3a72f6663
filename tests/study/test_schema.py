"""Stored studies carry a schema version; a study this version cannot read is refused in one line.

The old studies here are written the way scaling-search 0.1.0 wrote them (``create_study`` at
37362a7: the definition and its attrs, and each planned trial's candidate attributes with its
stage and ``on_constraint``, but no ``schema_version``), or older still (trials without a stage),
or as schema version 1 stored them (the same, stamped 1). Since version 2 (contenders: growth per
φ, equal compute where trained, the proxy rounding resolutions like the cost scale) none of them
can be read: their answers were picked among networks trained with unequal compute. Version 2
studies kept no per-image records on the test split, so since version 3 (verdicts judged on the
test split) their winners cannot be re-judged and they are refused too.
"""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.cli import main
from scaling_search.errors import InputError
from scaling_search.search.results import VAL_CORRECT
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import SCHEMA_ATTR, SCHEMA_VERSION, Stage, migrate, schema_version
from scaling_search.study.sizing import resolve_for_device
from scaling_search.study.storage import create_study, open_storage, saved_definition
from scaling_search.training.correctness import pack_correctness
from tests.cli_helpers import one_error_line

SPACE = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
         "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 9)}
POINTS = {(1.0, 1.2, 1.1): 0.8, (1.3, 1.0, 1.1): 0.6}


def old_study(tmp_path, name: str, *, with_stage: bool = True) -> tuple[optuna.Study, StudyDefinition]:
    """A finished two-candidate search, stored as 0.1.0 stored it (``with_stage``) or as a pre-0.1.0 one did."""
    definition = resolve_for_device(StudyDefinition(study=name, studies_dir=str(tmp_path / "studies"), finalists=0,
                                                    refine=False, base_resolution=32), gpus=0)
    (tmp_path / "studies").mkdir(exist_ok=True)
    study = optuna.create_study(study_name=name, storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    study.set_user_attr("num_classes", 10)
    for (alpha, beta, gamma), rate in POINTS.items():
        for seed in (0, 1):
            candidate = f"a{alpha:.4f}-b{beta:.4f}-g{gamma:.4f}"
            attrs = {"key": f"{candidate}/seed{seed}", "phi": 1.0, "candidate": candidate, "kind": "compound",
                     "macs": 750_000_000, "measured_ratio": 1.95, "nominal_ratio": 1.9, "params": 7_000_000,
                     "activations": 11_000_000, "cost_resolution": 248, "proxy_ratio": 3.6, "resolution": 35,
                     "status": "ok", "test_acc": rate}
            if with_stage:
                attrs |= {"stage": "search", "on_constraint": True}
            correct = np.random.default_rng([seed, round(alpha * 100)]).random(400) < rate
            study.add_trial(create_trial(
                params={"alpha": alpha, "beta": beta, "gamma": gamma, "seed": seed}, distributions=SPACE,
                value=float(correct.mean()), state=TrialState.COMPLETE, user_attrs=attrs,
                system_attrs={VAL_CORRECT: pack_correctness(correct)}))
    return study, definition


def test_a_new_study_is_stored_with_this_schema_version(tmp_path):
    definition = StudyDefinition(study="new", studies_dir=str(tmp_path))
    study = create_study(open_storage(definition.storage_url()), definition)
    assert study.user_attrs[SCHEMA_ATTR] == SCHEMA_VERSION == schema_version(study)


def test_a_version_3_study_reads_as_a_macs_study(tmp_path):
    """Version 4 adds the cost a study is held to; a version 3 study was held to MACs, which is still the default."""
    definition = StudyDefinition(study="v3", studies_dir=str(tmp_path))
    study = create_study(open_storage(definition.storage_url()), definition)
    study.set_user_attr(SCHEMA_ATTR, 3)
    migrate(study)
    assert saved_definition(study).cost == "macs"


@pytest.mark.parametrize("version", [0, 1, 2])
def test_a_study_from_an_older_version_is_refused_with_how_to_run_it_again(tmp_path, capsys, version):
    study, _ = old_study(tmp_path, "previous")
    if version:
        study.set_user_attr(SCHEMA_ATTR, version)
    assert schema_version(study) == version
    with pytest.raises(InputError, match="written by an older scaling-search"):
        saved_definition(study)
    line = one_error_line(main(["report", "previous", "--studies-dir", str(tmp_path / "studies"), "--out",
                                str(tmp_path / "out")]), *capsys.readouterr())
    why = "no per-image records on the test split" if version == 2 else "unequal compute"
    assert f"schema version {version}" in line and why in line
    assert "scaling-search run" in line and f"--study previous-v{SCHEMA_VERSION}" in line
    assert not (tmp_path / "out").exists()


def test_a_study_from_before_stages_is_refused_with_how_to_run_it_again(tmp_path, capsys):
    study, _ = old_study(tmp_path, "ancient", with_stage=False)
    with pytest.raises(InputError, match="run it again under a new name"):
        migrate(study)
    line = one_error_line(main(["report", "ancient", "--studies-dir", str(tmp_path / "studies"), "--out",
                                str(tmp_path / "out")]), *capsys.readouterr())
    assert "scaling-search run" in line and f"--study ancient-v{SCHEMA_VERSION}" in line


def test_a_study_from_a_newer_version_is_refused(tmp_path):
    study, _ = old_study(tmp_path, "future")
    study.set_user_attr(SCHEMA_ATTR, SCHEMA_VERSION + 1)
    with pytest.raises(InputError, match="newer scaling-search"):
        saved_definition(study)


def test_stage_values_are_the_stored_strings():
    assert [str(stage) for stage in Stage] == ["search", "finalist", "refine", "confirm"]
    assert f"{Stage.FINALIST}/a1/seed0" == "finalist/a1/seed0" and Stage("refine") is Stage.REFINE
