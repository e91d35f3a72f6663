"""Study definitions (TOML ↔ data) and the trial plan, without Ray."""

from __future__ import annotations

import sys

import pytest

from scaling_search.counting.analytic import analytic_counts
from scaling_search.search.search_plan import distinct_layouts, plan_grid, spread
from scaling_search.study.definition import StudyDefinition, changed_options, default_study_name
from scaling_search.study.sizing import (
    CPU_SIZING,
    DEMO,
    GPU_SIZING,
    LATENCY_DEMO,
    demo_line,
    largest_resolution,
    resolve_for_device,
)
from scaling_search.study.study_file import from_mapping, load_definition

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_resolved_definition_round_trips_through_toml(tmp_path):
    definition = resolve_for_device(StudyDefinition(study="x", seeds=3, alpha_range=(1.0, 1.6)), gpus=0)
    path = tmp_path / "study.toml"
    path.write_text(definition.to_toml())
    assert from_mapping(load_definition(path)) == definition
    assert tomllib.loads(definition.to_toml())["seeds"] == 3


def test_flags_override_file_and_dashes_are_accepted():
    base = from_mapping({"phi": 2, "max-candidates": 5})
    assert base.phi == 2.0 and base.max_candidates == 5
    assert from_mapping({"phi": 3}, base).max_candidates == 5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seeds": "3"}, "must be int"),
        ({"phi": True}, "must be float"),
        ({"alpha_range": [1.0]}, "pair"),
        ({"unknown": 1}, "unknown study option"),
        ({"study": "../../etc"}, "study name"),
        ({"study": "a/b"}, "study name"),
        ({"strategy": "random"}, "unknown strategy"),
        ({"strategy": "tpe", "seeds": 2}, "seeds"),
        ({"trials_per_gpu": 0}, "trials-per-gpu"),
        ({"val_fraction": 0.9}, "val-fraction"),
        ({"lr": -1}, "learning rate"),
    ],
)
def test_bad_definitions(values, message):
    with pytest.raises(ValueError, match=message):
        from_mapping(values)


def test_default_study_names():
    assert default_study_name(StudyDefinition()) == "synthetic-phi1-grid"
    assert default_study_name(StudyDefinition(dataset="imagefolder:~/data/imagenette/", phi=2,
                                              strategy="tpe")) == "imagefolder-imagenette-phi2-tpe"


def test_changed_options_ignore_execution_and_unset():
    saved = resolve_for_device(StudyDefinition(study="s"), gpus=0)
    assert changed_options(saved, resolve_for_device(StudyDefinition(study="s", address="auto"), gpus=0)) == []
    assert changed_options(saved, resolve_for_device(StudyDefinition(study="s", phi=2), gpus=0)) == ["phi"]


def test_device_sizing():
    cpu = resolve_for_device(StudyDefinition(base="efficientnet_b0", dataset="synthetic", base_resolution=32), gpus=0)
    assert cpu.device == "cpu" and cpu.base_resolution == CPU_SIZING.base_resolution
    assert cpu.max_candidates == CPU_SIZING.max_candidates and cpu.dataset == "synthetic"
    gpu = resolve_for_device(StudyDefinition(), gpus=1)
    assert gpu.device == "cuda" and gpu.epochs == GPU_SIZING.epochs and gpu.max_candidates is None
    assert (gpu.base, gpu.dataset, gpu.lr) == ("efficientnet_b0", "synthetic", None) and demo_line(gpu) is None
    explicit = resolve_for_device(StudyDefinition(epochs=9, base_resolution=48), gpus=0)
    assert explicit.epochs == 9 and explicit.base_resolution == 48 and explicit.base == "efficientnet_b0"
    assert largest_resolution(cpu) >= round(32 * 1.5)


def test_the_cpu_demo_of_a_latency_study_trains_its_proxy_at_112_px():
    """Its contenders must train with the compute they cost at the cost scale: at 56 px rounding moves that by
    10-16 % for every point of the demo's latency grid that grows as promised; at 112 px by at most 5 %."""
    demo = resolve_for_device(StudyDefinition(phi=1, cost="latency").named(), gpus=0)
    assert (demo.base, demo.dataset, demo.base_resolution) == (DEMO.base, DEMO.dataset, 112)
    assert LATENCY_DEMO.base_resolution == 112 and (demo.epochs, demo.max_train_images) == (DEMO.epochs, 2000)
    line = demo_line(demo)
    assert line is not None and "112 px" in line and "about half an hour" in line
    assert demo_line(resolve_for_device(StudyDefinition(phi=1).named(), gpus=0)) != line


@pytest.mark.parametrize("named", [{"base": "resnet50"}, {"dataset": "cifar10"}, {"base_resolution": 32},
                                   {"epochs": 1}, {"max_train_images": 500}, {"batch_size": 16}, {"lr": 0.1}])
def test_a_cpu_study_naming_nothing_of_its_task_is_the_demo_and_says_so(named):
    demo = resolve_for_device(StudyDefinition(phi=1).named(), gpus=0)  # named first, as `run` does
    assert (demo.base, demo.dataset, demo.base_resolution) == (DEMO.base, DEMO.dataset, DEMO.base_resolution)
    assert (demo.epochs, demo.max_train_images, demo.batch_size, demo.lr) == (2, 2000, 32, 0.4)
    assert demo.max_candidates == CPU_SIZING.max_candidates and demo.study_name() == "synthetic-phi1-grid"
    line = demo_line(demo)
    assert line is not None and line.startswith(f"Demo: {DEMO.base} ") and "56 px" in line and "on a GPU" in line
    own = resolve_for_device(StudyDefinition(**named), gpus=0)
    assert demo_line(own) is None and own.base_resolution != DEMO.base_resolution
    assert own.base == named.get("base", "efficientnet_b0") and own.dataset == named.get("dataset", "synthetic")
    # the demo stops at its finalists (3 fresh seeds) unless told to refine; a study of one's own refines as usual
    assert demo.refine is False and demo.finalist_seeds == 3 and "no refinement" in line
    assert resolve_for_device(StudyDefinition(phi=1, refine=True), gpus=0).refine is True
    assert own.refine is None


def test_the_demo_grid_searches_gamma_among_its_contenders():
    """At its 56 px proxy the demo's contenders hold γ > 1 at more than one trained resolution, within tolerance."""
    from scaling_search.coefficients.grid import enumerate_candidates
    from scaling_search.search.search_plan import grid_spec

    demo = resolve_for_device(StudyDefinition(), gpus=0)
    contenders = [c for c in enumerate_candidates(grid_spec(demo, 4), analytic_counts) if c.contender]
    assert {c.resolution for c in contenders if c.gamma > 1} >= {64, 72, 80}
    assert {c.gamma for c in contenders} >= {1.0, 1.15, 1.3, 1.4}
    assert all(abs(c.proxy_ratio - 2) <= 0.1 and abs(c.growth_per_phi - 2) <= 0.1 for c in contenders)
    assert all(c.resolution <= largest_resolution(demo) for c in contenders)  # rendered there: never upsampled


def test_plan_has_one_trial_per_distinct_layout_and_seed():
    definition = resolve_for_device(StudyDefinition(study="p", seeds=2, step=0.1, constraint="nominal",
                                                    base_resolution=32), gpus=1)
    plan = plan_grid(definition, 10, analytic_counts)
    keys = [p.key for p in plan]
    assert len(keys) == len(set(keys))
    layouts = {p.candidate.layout.structure_key() for p in plan if p.candidate.kind == "compound"}
    assert len(layouts) * 2 == sum(p.candidate.kind == "compound" for p in plan)
    assert plan[0].candidate.kind == "reference" and plan[1].candidate.kind == "reference"


def test_distinct_layouts_and_spread():
    from scaling_search.coefficients.grid import GridSpec, enumerate_candidates

    candidates = enumerate_candidates(GridSpec(base_resolution=32, num_classes=10), analytic_counts)
    distinct = distinct_layouts(candidates)
    assert len({c.layout.structure_key() for c in distinct}) == len(distinct) < len(candidates)
    limited = spread(distinct, 2)
    assert sum(c.kind == "compound" for c in limited) == 2
    assert any(c.kind == "reference" for c in limited)

