"""Searching other base networks: --base on every command, the grid, sizing, study files and the stored stage table."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.cli import main
from scaling_search.coefficients.grid import GridSpec, candidates
from scaling_search.coefficients.scaleup import scale_up_members
from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.models.architecture import EFFICIENTNET_B0
from scaling_search.models.base_file import load_base
from scaling_search.models.bases import MOBILENET_V2, RESNET50, base_network
from scaling_search.search.search_plan import grid_spec, plan_grid
from scaling_search.study.definition import StudyDefinition, changed_options
from scaling_search.study.schema import stamp
from scaling_search.study.sizing import CPU_SIZING, MIN_CPU_TRAIN_IMAGES, resolve_for_device
from scaling_search.study.study_base import study_base, with_base_table
from scaling_search.study.study_file import from_mapping, load_definition
from tests.cli_helpers import cli_error, run_cli
from tests.search_helpers import contender_attrs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TABLE = ROOT / "studies" / "bases" / "example_net.toml"
SPACE = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
         "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 9)}
PLANNED = {(1.0, 1.1, 1.3): [0.80, 0.81, 0.82], (1.4, 1.1, 1.05): [0.60, 0.62, 0.58]}


def bad_table(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nbase_resolution = 64\n[[stages]]\nblock = "mbconv"\n')
    return path


def test_flops_of_resnet50_is_torchvisions_with_either_counter(capsys):
    for counter in ("analytic", "fvcore"):
        code, out, _ = run_cli(capsys, "flops", "--base", "resnet50", "--counter", counter, "--json")
        data = json.loads(out)
        assert code == 0 and data["base"] == "resnet50" and data["head"] is None and data["resolution"] == 224
        assert (data["params"], data["macs"]) == (25_557_032, 4_089_184_256)
    code, out, _ = run_cli(capsys, "flops", "--base", "resnet50", "--counter", "analytic")
    assert code == 0 and "head none" in out and "bottleneck" in out


def test_candidates_of_mobilenet_v2_have_no_reference_point(capsys):
    code, out, _ = run_cli(capsys, "candidates", "--base", "mobilenet_v2", "--phi", "1", "--counter", "analytic",
                           "--json")
    rows = json.loads(out)
    assert code == 0 and any(row["kind"] == "compound" for row in rows)
    assert not any(row["kind"] == "reference" for row in rows)


def test_the_grid_measures_the_base_it_scales_and_fvcore_agrees():
    spec = GridSpec(step=0.1, base=MOBILENET_V2, base_resolution=32, num_classes=10, alpha_range=(1.4, 1.6),
                    beta_range=(1.0, 1.1), gamma_range=(1.0, 1.1))
    analytic = candidates(spec, "analytic")
    assert analytic and all(c.layout.base == "mobilenet_v2" for c in analytic)
    assert all(c.kind == "compound" for c in analytic)  # the paper's point is B0's only
    measured = candidates(spec, "fvcore")
    assert [(c.coefficients, c.macs, c.params) for c in measured] == [(c.coefficients, c.macs, c.params)
                                                                       for c in analytic]
    assert GridSpec.from_options(type("Args", (), {"base": "resnet50"})()).base == RESNET50
    paper = [c for c in candidates(GridSpec(step=0.1), "analytic") if c.kind == "reference"]
    assert len(paper) == 1 and paper[0].layout.base == "efficientnet_b0"  # B0 as before


def test_scale_up_has_a_paper_member_for_b0_only():
    for base, kinds in ((EFFICIENTNET_B0, 5), (RESNET50, 4)):
        members = scale_up_members(GridSpec(base=base, base_resolution=32, num_classes=10), (1.0, 1.2, 1.1), 2,
                                   analytic_counts)
        assert len(members) == kinds and ("paper" in [m.kind for m in members]) == (kinds == 5)
        assert {m.proxy_layout.base for m in members} == {base.name}


def test_derive_of_resnet50_lists_no_released_family_and_says_why(capsys):
    code, out, _ = run_cli(capsys, "derive", "--base", "resnet50", "--alpha", "1.2", "--beta", "1.1", "--gamma",
                           "1.15", "--counter", "analytic", "--json")
    data = json.loads(out)
    assert code == 0 and data["released"] == [] and "exist only for EfficientNet-B0" in data["released_note"]
    assert [row["layout"]["base"] for row in data["derived"]] == ["resnet50"] * 8
    assert data["derived"][0]["macs"] == 4_089_184_256  # phi0 is ResNet-50 itself
    code, out, _ = run_cli(capsys, "derive", "--counter", "analytic", "--json")
    assert code == 0 and len(json.loads(out)["released"]) == 8  # B0 as before


def test_train_scales_another_base(capsys):
    code, out, _ = run_cli(capsys, "train", "--base", "regnet_y_400mf", "--epochs", "1", "--dataset",
                           "synthetic:classes=4,train=64,test=32", "--resolution", "32", "--device", "cpu", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "ok" and data["layout"]["base"] == "regnet_y_400mf"


@pytest.mark.parametrize("command", [["flops"], ["candidates", "--counter", "analytic"], ["derive"],
                                     ["train", "--epochs", "1"], ["run"]])
def test_a_bad_base_is_one_line_for_every_command(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    assert "unknown base network 'nosuch'" in cli_error(capsys, *command, "--base", "nosuch")
    assert "missing field 'stem_channels'" in cli_error(capsys, *command, "--base", str(bad_table(tmp_path)))
    assert not (tmp_path / "studies").exists()


def test_released_models_are_b0s_only(capsys):
    assert "exist only for EfficientNet-B0" in cli_error(capsys, "flops", "--base", "resnet50", "--model", "b3")
    assert "exist only for EfficientNet-B0" in cli_error(capsys, "report", "--paper", "--base", "resnet50")


def test_a_study_definition_keeps_its_base_through_its_toml():
    definition = with_base_table(StudyDefinition(base=str(EXAMPLE_TABLE))).named()
    assert definition.study == "synthetic-example_net-phi1-grid"
    assert study_base(definition) == load_base(EXAMPLE_TABLE)
    assert from_mapping(tomllib.loads(definition.to_toml())) == definition
    resnet = StudyDefinition(base="ResNet50")
    assert with_base_table(resnet).base == "resnet50" and resnet.named().study == "synthetic-resnet50-phi1-grid"
    saved = resolve_for_device(StudyDefinition(study="s", base_resolution=32), gpus=0)
    assert changed_options(saved, StudyDefinition(study="s", base="resnet50")) == ["base"]
    assert changed_options(saved, resolve_for_device(StudyDefinition(study="s", base="efficientnet-b0",
                                                                     base_resolution=32), gpus=0)) == []
    assert changed_options(saved, StudyDefinition(study="s", base=str(EXAMPLE_TABLE))) == ["base"]


def test_the_cpu_training_budget_scales_with_the_bases_cost():
    b0 = resolve_for_device(StudyDefinition(base_resolution=32), gpus=0)
    assert (b0.epochs, b0.max_train_images) == (CPU_SIZING.epochs, CPU_SIZING.max_train_images) == (2, 1000)
    resnet = resolve_for_device(StudyDefinition(base="resnet50"), gpus=0)
    assert (resnet.epochs, resnet.max_train_images) == (1, 203)  # 2 x 1000 x 8.5 M / 83.4 M MACs, in one epoch
    given = resolve_for_device(StudyDefinition(base="resnet50", epochs=2), gpus=0)
    assert (given.epochs, given.max_train_images) == (2, MIN_CPU_TRAIN_IMAGES)  # 101 a epoch, raised to the floor
    mobilenet = resolve_for_device(StudyDefinition(base="mobilenet_v2"), gpus=0)
    assert (mobilenet.epochs, mobilenet.max_train_images) == (2, 1000)  # cheaper than B0: never more
    assert resolve_for_device(StudyDefinition(base="resnet50", max_train_images=500), gpus=0).max_train_images == 500
    gpu = resolve_for_device(StudyDefinition(base="resnet50"), gpus=1)
    assert (gpu.epochs, gpu.max_train_images) == (5, None)
    regnet = resolve_for_device(StudyDefinition(base="regnet_y_400mf"), gpus=0)
    assert regnet.epochs == 2 and MIN_CPU_TRAIN_IMAGES < regnet.max_train_images < 1000  # 8.8 M MACs against 8.5 M


def test_a_capped_plan_spreads_the_closed_form_grid_and_measures_only_what_it_trains():
    """The closed form counts what fvcore measures, so the CPU plan is the one an all-fvcore grid gives."""
    from scaling_search.coefficients.grid import enumerate_candidates
    from scaling_search.search.search_plan import contending, distinct_layouts, spread

    definition = resolve_for_device(StudyDefinition(base_resolution=32), gpus=0)
    plan = plan_grid(definition, 10, make_counter("fvcore"))
    spec = grid_spec(definition, 10)
    every = spread(distinct_layouts(contending(enumerate_candidates(spec, analytic_counts), spec)), 3)
    every.sort(key=lambda c: (c.kind != "reference", c.coefficients))
    assert [p.candidate for p in plan] == every and len(every) == 4  # 3 compound and the paper's point


@pytest.mark.parametrize("name,compound", [("mobilenet_v2", 4), ("resnet50", 7)])
def test_the_paper_table3_studies_load_and_plan(name, compound):
    definition = from_mapping(load_definition(ROOT / "studies" / f"paper_table3_{name}.toml"))
    assert definition.base == name and definition.phi == 2 and definition.target == 2 and definition.baselines
    plan = plan_grid(resolve_for_device(definition, gpus=1), 10, analytic_counts)
    kinds = [planned.candidate.kind for planned in plan if planned.seed == 0]
    assert kinds.count("compound") == compound and "reference" not in kinds
    assert {"depth-only", "width-only", "resolution-only"} <= set(kinds)
    assert all(planned.candidate.layout.base == name for planned in plan)
    grid = [p.candidate for p in plan if p.candidate.kind == "compound"]
    assert all(c.contender for c in grid)  # the search trains contenders only
    assert all(abs(c.proxy_ratio - 4) <= 0.2 for c in grid)  # the paper's ~4x where it trains: 2 per unit of phi
    assert all(abs(c.growth_per_phi - 2) <= 0.1 for c in grid)


def stored_study(tmp_path: Path, base: str, name: str = "based") -> StudyDefinition:
    """A finished search of ``base`` written through Optuna (no finalists, no refinement): nothing left to train."""
    definition = with_base_table(resolve_for_device(StudyDefinition(
        study=name, studies_dir=str(tmp_path / "studies"), base=base, finalists=0, refine=False), gpus=0))
    (tmp_path / "studies").mkdir(exist_ok=True)
    study = optuna.create_study(study_name=name, storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    stamp(study)  # as scaling-search run stores a study: this version's schema
    study.set_user_attr("num_classes", 10)
    study.set_user_attr("native_resolution", 32)
    for (alpha, beta, gamma), values in PLANNED.items():
        for seed, value in enumerate(values):
            candidate = f"a{alpha:.4f}-b{beta:.4f}-g{gamma:.4f}"
            attrs = {"key": f"{candidate}/seed{seed}", "candidate": candidate, "kind": "compound", "phi": 1.0,
                     "macs": int(1e7 * alpha * beta**2 * gamma**2), "measured_ratio": 2.0, "params": 5_000_000,
                     "nominal_ratio": alpha * beta**2 * gamma**2, "activations": 200_000, "on_constraint": True,
                     "resolution": round(32 * gamma), "cost_resolution": 4 * round(56 * gamma), "proxy_ratio": 2.0,
                     "test_acc": value, "wall_s": 10.0, "status": "ok", "hardware": "test CPU",
                     **contender_attrs(True, round(32 * gamma))}
            study.add_trial(create_trial(params={"alpha": alpha, "beta": beta, "gamma": gamma, "seed": seed},
                                         distributions=SPACE, value=value, state=TrialState.COMPLETE,
                                         user_attrs=attrs, intermediate_values={1: value}))
    return definition


def report(tmp_path: Path, name: str, *extra: str) -> list[str]:
    return ["report", name, "--studies-dir", str(tmp_path / "studies"), "--out", str(tmp_path / "out"), *extra]


def test_a_study_of_another_base_reports_it_without_b0s_family(tmp_path, capsys):
    stored_study(tmp_path, "resnet50")
    assert main(report(tmp_path, "based")) == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "Base network: **resnet50**" in index and "the base network's (resnet50's) cost" in index
    assert "exist only for EfficientNet-B0; resnet50 has neither" in index
    assert "released B0–B7 measured here" not in index and "from a small grid search at φ = 1" not in index
    assert "paper" not in (tmp_path / "out" / "alpha_beta_gamma.csv").read_text().splitlines()[0].split(",")
    family = (tmp_path / "out" / "family.csv").read_text().splitlines()
    assert len(family) == 9 and "paper" not in family[0] and all(",derived," in row for row in family[1:])
    capsys.readouterr()
    assert main(report(tmp_path, "based", "--base", "resnet50")) == 0  # its own base may be named
    capsys.readouterr()
    assert "scales the base resnet50, not mobilenet_v2" in cli_error(capsys, *report(tmp_path, "based", "--base",
                                                                                      "mobilenet_v2"))
    assert "scales the base resnet50, not" in cli_error(capsys, "validate", "based", "--studies-dir",
                                                        str(tmp_path / "studies"), "--base", "efficientnet_b0")
    assert "unknown base network 'nosuch'" in cli_error(capsys, *report(tmp_path, "based", "--base", "nosuch"))
    assert "missing field" in cli_error(capsys, "validate", "based", "--studies-dir", str(tmp_path / "studies"),
                                        "--base", str(bad_table(tmp_path)))


def test_a_study_of_a_stage_table_resumes_reports_and_plans_its_validation_without_the_file(tmp_path, capsys):
    from scaling_search.search.search_driver import run_study
    from scaling_search.validation.options import ValidationOptions
    from scaling_search.validation.validation_driver import plan_runs

    table = tmp_path / "nets" / "my_net.toml"
    table.parent.mkdir()
    shutil.copy(EXAMPLE_TABLE, table)
    definition = stored_study(tmp_path, str(table), "tabled")
    table.unlink()  # moved away or deleted: the study has its own copy
    outcome = run_study(StudyDefinition(study="tabled", studies_dir=definition.studies_dir), resume=True)
    assert not outcome.trained and outcome.best is not None and outcome.best.base == "example_net"
    best = json.loads((Path(definition.studies_dir) / "tabled" / "best.json").read_text())
    derived = json.loads((Path(definition.studies_dir) / "tabled" / "derived.json").read_text())
    assert best["base"] == "example_net" and derived["released"] == [] and derived["base"] == "example_net"
    assert main(report(tmp_path, "tabled")) == 0 and "Base network: **example_net**" in (
        tmp_path / "out" / "index.md").read_text()
    study = optuna.load_study(study_name="tabled", storage=definition.storage_url())
    options = ValidationOptions(top=2, seeds=1, long_resolution=32).resolved(definition.phi, 1)
    runs, members = plan_runs(study.get_trials(), definition, 10, options)
    assert runs and {m.proxy_layout.base for m in members[2.0]} == {"example_net"}
    assert "paper" not in [m.kind for m in members[2.0]]
    assert grid_spec(definition, 10).base == base_network(str(EXAMPLE_TABLE))
    capsys.readouterr()
    assert "stage table not found" in cli_error(capsys, *report(tmp_path, "tabled", "--base", str(table)))


def test_fvcore_counts_each_base_as_the_closed_form_does():
    counter = make_counter("fvcore")
    for name in ("mobilenet_v2", "regnet_y_400mf"):
        spec = GridSpec(base=base_network(name), base_resolution=32, num_classes=10)
        assert counter(spec.base_cost_layout()) == analytic_counts(spec.base_cost_layout())
