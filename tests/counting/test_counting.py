"""Golden numbers of the released family and agreement of the closed form with fvcore."""


import pytest
import torch

from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.counting.measured import fvcore_counts, fvcore_model_counts, measured_counts
from scaling_search.models.architecture import RELEASED_FAMILY, released_model
from scaling_search.models.network import build, count_parameters
from scaling_search.models.scaling import released_layout, scale


def released(name, num_classes=1000):
    return released_layout(released_model(name), num_classes)


def test_golden_params():
    assert count_parameters(build(released("b0"))) == 5_288_548
    assert count_parameters(build(released("b7"))) == 66_347_960
    assert analytic_counts(released("b0")).params == 5_288_548
    assert analytic_counts(released("b7")).params == 66_347_960


def test_golden_macs():
    """The paper's Table 2 says 0.39 B and 37 B FLOPs; these are the exact counts under its convention."""
    assert analytic_counts(released("b0")) == Counts(params=5_288_548, macs=385_814_752, activations=6_748_036)
    assert analytic_counts(released("b7")) == Counts(params=66_347_960, macs=37_745_884_192, activations=289_939_464)


def test_fvcore_b0_golden():
    counts = fvcore_counts(released("b0"))
    assert counts == Counts(params=5_288_548, macs=385_814_752, activations=6_748_036)


@pytest.mark.slow
@pytest.mark.parametrize("model", RELEASED_FAMILY, ids=lambda m: m.name)
def test_analytic_agrees_with_fvcore_on_released(model):
    layout = released_layout(model)
    analytic, measured = analytic_counts(layout), fvcore_counts(layout)
    assert analytic == measured  # params, MACs and activations, exactly


@pytest.mark.parametrize(
    ("width", "depth", "resolution", "classes"),
    [(0.37, 0.6, 97, 10), (1.13, 1.37, 131, 100), (0.5, 2.3, 33, 7), (1.77, 0.9, 64, 1000)],
)
def test_analytic_agrees_with_fvcore_off_grid(width, depth, resolution, classes):
    layout = scale(width, depth, resolution, num_classes=classes)
    analytic, measured = analytic_counts(layout), fvcore_counts(layout)
    assert analytic == measured  # params, MACs and activations, exactly


def test_only_conv_and_linear_count():
    """BatchNorm, activations, pooling and elementwise multiplies are not multiply-adds here."""
    from torch import nn

    class Gated(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(8)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 5)

        def forward(self, x):
            y = torch.nn.functional.silu(self.bn(self.conv(x)))
            y = y * torch.sigmoid(y)
            return self.fc(self.pool(y).flatten(1))

    macs, activations = fvcore_model_counts(Gated().eval(), torch.zeros(1, 3, 10, 10))
    assert macs == 10 * 10 * 8 * 3 * 3 * 3 + 8 * 5
    assert activations == 10 * 10 * 8 + 5


def test_measured_counts_are_cached(tmp_path, monkeypatch):
    layout = scale(0.5, 0.5, 48, num_classes=10)
    first = measured_counts(layout, tmp_path)
    assert list((tmp_path / "counts").glob("*.json"))
    monkeypatch.setattr("scaling_search.counting.measured.fvcore_counts", no_recount)
    second = measured_counts(layout, tmp_path)
    assert first == second


def no_recount(layout: object) -> None:
    raise AssertionError(f"{layout} was measured again instead of read from the cache")


def test_cache_key_ignores_coefficients_that_realise_the_same_layout(tmp_path):
    from scaling_search.counting.measured import cache_key

    # Depth 1.05 and 1.1 both ceil to the same repeats; widths 1.0 and 1.001 round to the same channels.
    assert cache_key(scale(1.0, 1.05, 64)) == cache_key(scale(1.001, 1.1, 64))
    assert cache_key(scale(1.0, 1.0, 64)) != cache_key(scale(1.0, 1.0, 65))


def test_fvcore_is_quiet(capfd):
    fvcore_counts(scale(0.25, 0.25, 32, num_classes=10))
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def small_layouts():
    return [scale(width, depth, 32, num_classes=10) for width, depth in [(0.25, 0.25), (0.3, 0.25), (0.25, 0.5)]]


def test_count_all_measures_each_distinct_network_once_then_reads_the_cache(tmp_path, monkeypatch):
    from scaling_search.counting import counter as counter_module
    from scaling_search.counting import measured

    measured_now = []
    monkeypatch.setattr(measured, "fvcore_counts", lambda layout: measured_now.append(layout) or fvcore_counts(layout))
    layouts = [*small_layouts(), scale(0.251, 0.25, 32, num_classes=10)]  # the last rounds to the first's network
    calls = []
    counts = counter_module.count_all(counter_module.make_counter("fvcore", tmp_path), layouts,
                                      lambda done, total: calls.append((done, total)))
    assert len(measured_now) == 3 and calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert all(counts[layout.structure_key()] == fvcore_counts(layout) for layout in layouts)
    calls.clear()
    again = counter_module.count_all(counter_module.make_counter("fvcore", tmp_path), layouts,
                                     lambda done, total: calls.append((done, total)))
    assert again == counts and len(measured_now) == 3 and calls == []  # all from the cache, nothing to report
    closed_form = {layout.structure_key(): analytic_counts(layout) for layout in layouts}
    assert counter_module.count_all(analytic_counts, layouts) == closed_form


@pytest.mark.slow
def test_count_all_in_worker_processes_matches_and_caches(tmp_path, monkeypatch):
    from scaling_search.counting import counter as counter_module

    monkeypatch.setattr(counter_module, "PARALLEL_FROM", 2)
    layouts = small_layouts()
    done = []
    counts = counter_module.count_all(counter_module.make_counter("fvcore", tmp_path), layouts,
                                      lambda count, total: done.append(count), workers=2)
    assert counts == {layout.structure_key(): fvcore_counts(layout) for layout in layouts}
    assert done == [0, 1, 2, 3] and len(list((tmp_path / "counts").glob("*.json"))) == 3


def test_a_network_too_large_to_build_is_refused_before_building(monkeypatch, capsys):
    from scaling_search.cli import main
    from scaling_search.counting import measured

    monkeypatch.setattr("scaling_search.support.machine.physical_memory", lambda: 2**30)  # a 1 GiB machine
    monkeypatch.setattr(measured, "build", lambda layout: pytest.fail("the network was built"))
    with pytest.raises(ValueError, match=r"needs about .* GiB .*use --counter analytic"):
        fvcore_counts(scale(4.0, 2.0, 224))
    assert main(["flops", "--width", "4", "--depth", "2", "--resolution", "224"]) == 2
    assert "use --counter analytic" in capsys.readouterr().err
    assert main(["flops", "--width", "4", "--depth", "2", "--resolution", "224", "--counter", "analytic"]) == 0
