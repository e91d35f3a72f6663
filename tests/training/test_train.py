"""The proxy trainer on CPU: it learns, diverges cleanly, is deterministic, and uses the documented optimizer."""

import copy
import itertools
import math
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn

from scaling_search.data.dataset import ImageData
from scaling_search.models.network import build
from scaling_search.models.scaling import scale
from scaling_search.training.proxy import ProxyResult, train_proxy
from scaling_search.training.recipe import CPU_BATCH, RECIPES, Budget, Recipe, Schedule, default_batch, get_recipe
from scaling_search.training.step import Optimizer, param_groups

PALETTE = torch.tensor([[200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40]])


def colour_data(train: int = 512, val: int = 128, test: int = 128, size: int = 24, seed: int = 0) -> ImageData:
    """Four classes told apart by their colour under heavy pixel noise: easy, but only for a network that learns."""
    generator = torch.Generator().manual_seed(seed)

    def split(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.randperm(count, generator=generator) % len(PALETTE)
        noise = torch.randint(-60, 61, (count, 3, size, size), generator=generator)
        return (PALETTE[labels].view(count, 3, 1, 1) + noise).clamp(0, 255).to(torch.uint8), labels

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = split(train), split(val), split(test)
    return ImageData(
        name="colours", class_names=("red", "green", "blue", "yellow"),
        train_x=train_x, train_y=train_y, val_x=val_x, val_y=val_y, test_x=test_x, test_y=test_y,
        mean=(0.5, 0.5, 0.4), std=(0.3, 0.3, 0.3), native_resolution=size,
    )


DATA = colour_data()
LAYOUT = scale(0.25, 0.25, resolution=32, num_classes=4)
RECIPE = replace(RECIPES["proxy"], train_batch_size=32)


def run(**changes) -> ProxyResult:
    arguments = {"layout": LAYOUT, "data": DATA, "budget": Budget(epochs=1), "recipe": RECIPE, "seed": 0,
                 "device": "cpu", "threads": 1}
    arguments.update(changes)
    return train_proxy(**arguments)


def floats_in(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from floats_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from floats_in(item)


def test_short_run_beats_chance_by_far():
    result = run(budget=Budget(epochs=2))
    assert result.status == "ok" and result.reason is None
    assert result.val_acc > 0.8 and result.test_acc > 0.8  # chance is 0.25
    assert result.epochs == 2 and len(result.val_curve) == len(result.train_loss_curve) == 2
    assert result.best_val_acc == max(result.val_curve) and result.val_acc == result.val_curve[-1]
    assert result.img_per_s > 0 and result.wall_s > 0 and result.params == sum(
        p.numel() for p in build(LAYOUT).parameters())
    assert result.step_mode == "eager" and result.device == "cpu"


def test_absurd_learning_rate_diverges_without_nan_numbers():
    result = run(recipe=replace(RECIPE, lr_per_256=1e6))
    assert result.status == "diverged"
    assert "loss" in result.reason and "epoch 1" in result.reason
    assert result.val_acc is None and result.test_acc is None
    data = result.to_dict()
    assert all(math.isfinite(v) for v in floats_in(data))


@pytest.mark.parametrize(("split", "poisoned_batch", "epochs_kept"), [("validation", 96, 0), ("test", 160, 1)])
def test_non_finite_logits_at_evaluation_diverge(monkeypatch, split, poisoned_batch, epochs_kept):
    """NaN logits at an evaluation are divergence, not accuracy.

    The evaluation took ``argmax`` of the logits as they were; NaN logits became class 0, and a
    broken network was recorded ``ok`` at chance accuracy. Here the classifier's output turns NaN
    in eval mode for the one split whose size is ``poisoned_batch`` (each split is a single batch).
    """
    import scaling_search.training.proxy as train_module

    def poisoned(layout):
        model = build(layout)
        model.classifier.register_forward_hook(
            lambda module, inputs, out: out if module.training or len(out) != poisoned_batch else out * math.nan)
        return model

    monkeypatch.setattr(train_module, "build", poisoned)
    result = run(data=colour_data(val=96, test=160))
    assert result.status == "diverged"
    assert result.reason == f"{split} logits were not finite for {poisoned_batch} of {poisoned_batch} images at the " \
                            "evaluation after epoch 1"
    assert result.val_acc is None and result.test_acc is None and result.epochs == epochs_kept


def test_same_seed_same_accuracy():
    first, second = run(seed=3), run(seed=3)
    assert first.val_curve == second.val_curve and first.test_acc == second.test_acc
    assert first.train_loss_curve == second.train_loss_curve


def test_report_once_per_epoch_with_the_curves():
    calls = []
    result = run(budget=Budget(epochs=2), report=lambda *args: calls.append(args))
    assert calls == [(1, result.val_curve[0], result.train_loss_curve[0]),
                     (2, result.val_curve[1], result.train_loss_curve[1])]
    assert all(isinstance(e, int) and isinstance(a, float) and isinstance(loss, float) for e, a, loss in calls)


def test_exceptions_from_report_pass_through():
    class Pruned(Exception):
        pass

    def report(epoch, val_acc, train_loss):
        raise Pruned

    threads = torch.get_num_threads()
    with pytest.raises(Pruned):
        run(report=report, threads=2)
    assert torch.get_num_threads() == threads


def test_training_errors_become_outcomes(monkeypatch):
    import scaling_search.training.proxy as train_module

    def boom(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(train_module, "train_batch", boom)
    result = run()
    assert result.status == "failed" and result.reason == "RuntimeError: boom"
    assert result.epochs == 0 and result.val_acc is None and result.best_val_acc is None

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(train_module, "train_batch", oom)
    assert run().status == "oom"

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train_batch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run()


def test_threads_and_global_rng_are_restored():
    threads, state = torch.get_num_threads(), torch.get_rng_state()
    run(threads=2, budget=Budget(epochs=1, max_train_images=64))
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_arguments_raise_before_training():
    with pytest.raises(ValueError, match="classes"):
        run(layout=scale(0.25, 0.25, resolution=32, num_classes=10))
    with pytest.raises(ValueError, match="epochs"):
        Budget(epochs=0)
    with pytest.raises(ValueError, match="learning rate"):
        Recipe(lr_per_256=-0.1)
    with pytest.raises(ValueError, match="optimizer"):
        Recipe(optimizer="adam")
    with pytest.raises(ValueError, match="unknown recipe"):
        get_recipe("fast")


def test_named_recipes_are_immutable():
    assert set(RECIPES) == {"proxy", "paper"}
    with pytest.raises(TypeError):
        RECIPES["proxy"] = Recipe()  # type: ignore[index]
    paper = RECIPES["paper"]
    assert paper.optimizer == "rmsprop" and paper.lr_per_256 == 0.016 and paper.rmsprop_eps == 1e-3
    assert paper.peak_lr(4096) == pytest.approx(0.256)


def test_default_batch_is_smaller_on_a_cpu():
    for recipe in RECIPES.values():
        assert default_batch(recipe, "cpu") == CPU_BATCH == 64
        assert default_batch(recipe, "cuda") == recipe.train_batch_size


def test_threads_are_checked_before_training():
    with pytest.raises(ValueError, match=r"threads must lie in \[1, 1024\], got 0"):
        run(threads=0)


def test_evaluation_batch_keeps_its_pixels_at_high_resolution():
    proxy = RECIPES["proxy"]
    assert [proxy.eval_batch(r) for r in (16, 32, 64, 128, 224, 400, 4096)] == [1024, 1024, 1024, 256, 83, 26, 1]
    assert Recipe(eval_batch_size=8).eval_batch(32) == 8


def test_a_run_too_large_for_the_cpu_memory_is_refused_before_building(monkeypatch):
    import scaling_search.training.proxy as train_module

    monkeypatch.setattr("scaling_search.support.machine.physical_memory", lambda: 2**30)
    monkeypatch.setattr(train_module, "build", lambda layout: pytest.fail("the network was built"))
    layout = scale(8.0, 1.0, 64, num_classes=DATA.num_classes)
    with pytest.raises(ValueError, match=r"needs at least .* GiB, more than this machine's 1.0 GiB"):
        train_proxy(layout, DATA, Budget(epochs=1))
    activations = scale(0.25, 0.25, 512, num_classes=DATA.num_classes)  # small weights, large images
    with pytest.raises(ValueError, match="at batch 32 needs"):
        train_proxy(activations, DATA, Budget(epochs=1), recipe=replace(RECIPES["proxy"], train_batch_size=32))
    with pytest.raises(pytest.fail.Exception, match="the network was built"):  # 2 images per step fit: it goes on
        train_proxy(activations, DATA, Budget(epochs=1, max_train_images=2),
                    recipe=replace(RECIPES["proxy"], train_batch_size=32))


def test_schedule_warms_up_then_decays_to_zero():
    rates = [Schedule(peak=1.0, warmup_steps=10, total_steps=100, decay=None).rate(step) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(rates[9:]))
    assert 0 < rates[-1] < 1e-3
    assert RECIPES["proxy"].warmup_steps(steps_per_epoch=100, total_steps=20) == 10  # at most half the run
    proxy = RECIPES["proxy"].lr_schedule(batch_size=512, steps_per_epoch=100, total_steps=1000)
    assert proxy == Schedule(peak=0.2, warmup_steps=30, total_steps=1000, decay=None)


def test_paper_schedule_is_the_references_staircase_decay_after_a_warm_up_scaled_to_the_run():
    """``paper`` multiplies the rate by 0.97 every 2.4 epochs, in steps, after a warm-up of 5/350 of the run.

    It used the proxy's 0.3-epoch warm-up and a cosine to zero, on the grounds that the reference's
    decay is nearly constant over two epochs: a reason to keep the rate nearly constant, not to
    take it to zero.
    """
    schedule = RECIPES["paper"].lr_schedule(batch_size=4096, steps_per_epoch=100, total_steps=3500)
    assert schedule.warmup_steps == 50  # 3500 · 5 / 350
    assert schedule.rate(0) == pytest.approx(0.00512) and schedule.rate(49) == pytest.approx(0.256)
    assert schedule.rate(50) == schedule.rate(239) == pytest.approx(0.256)
    assert schedule.rate(240) == schedule.rate(479) == pytest.approx(0.24832)  # epoch 2.4: 0.256 · 0.97
    assert schedule.rate(480) == pytest.approx(0.2408704)  # epoch 4.8: 0.256 · 0.97²
    assert schedule.rate(3499) == pytest.approx(0.167126087)  # 0.256 · 0.97^14
    short = RECIPES["paper"].lr_schedule(batch_size=64, steps_per_epoch=56, total_steps=112)  # two CPU epochs
    assert short.warmup_steps == 2  # 112 · 5 / 350 = 1.6
    assert short.rate(0) == pytest.approx(0.002) and short.rate(111) == pytest.approx(0.004)
    assert RECIPES["paper"].warmup_steps(steps_per_epoch=5, total_steps=10) == 1  # at least one step


@pytest.mark.parametrize(("changes", "message"), [
    (dict(schedule="step"), "schedule must be one of cosine, exponential, not 'step'"),
    (dict(schedule="exponential"), r"needs a decay_factor in \(0, 1\], got None"),
    (dict(schedule="exponential", decay_factor=1.5, decay_epochs=2.4), r"decay_factor in \(0, 1\], got 1.5"),
    (dict(schedule="exponential", decay_factor=0.97, decay_epochs=0.0), "needs decay_epochs > 0, got 0.0"),
    (dict(decay_factor=0.97), "the cosine schedule takes no decay_factor or decay_epochs"),
    (dict(warmup_fraction=0.1), "warmup_epochs or as warmup_fraction, not both"),
    (dict(warmup_epochs=0.0, warmup_fraction=1.0), r"warmup_fraction .* must lie in \[0, 1\), got 1.0"),
])
def test_recipe_schedule_is_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        Recipe(**changes)


def test_no_weight_decay_on_batchnorm_and_biases():
    model = build(LAYOUT)
    decay, no_decay = param_groups(model)
    assert {id(p) for p in decay}.isdisjoint(id(p) for p in no_decay)
    assert len(decay) + len(no_decay) == len(list(model.parameters()))
    norms = {id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    biases = {id(p) for name, p in model.named_parameters() if name.endswith(".bias")}
    assert norms | biases == {id(p) for p in no_decay}
    assert all(p.dim() in (2, 4) for p in decay)
    assert any(p is model.classifier.weight for p in decay)


def two_copies() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    return model, copy.deepcopy(model)


def step_both(ours: nn.Module, reference: nn.Module, optimizer: Optimizer, torch_optimizer, rates) -> None:
    generator = torch.Generator().manual_seed(1)
    for rate in rates:
        x = torch.randn(8, 3, 6, 6, generator=generator)
        for model in (ours, reference):
            model.zero_grad(set_to_none=True)
            model(x).square().mean().backward()
        optimizer.set_lr(rate)
        optimizer.step()
        for group in torch_optimizer.param_groups:
            group["lr"] = rate
        torch_optimizer.step()
    for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_sgd_matches_torch_nesterov_with_decay_groups():
    ours, reference = two_copies()
    recipe = replace(RECIPES["proxy"], weight_decay=0.01)
    decay, no_decay = param_groups(reference)
    torch_optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.1, momentum=0.9, nesterov=True,
    )
    step_both(ours, reference, Optimizer(ours, recipe), torch_optimizer, rates=(0.1, 0.3, 0.05))


def test_rmsprop_matches_tensorflow_form_of_timm():
    timm_optim = pytest.importorskip("timm.optim")
    ours, reference = two_copies()
    recipe = replace(RECIPES["paper"], weight_decay=0.01)
    decay, no_decay = param_groups(reference)
    torch_optimizer = timm_optim.RMSpropTF(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9, lr_in_momentum=True,
    )
    step_both(ours, reference, Optimizer(ours, recipe), torch_optimizer, rates=(0.01, 0.02, 0.005))


def test_training_modules_import_without_ray_optuna_fvcore():
    code = (
        "import sys, scaling_search.training.proxy, scaling_search.training.recipe, scaling_search.training.step\n"
        "import scaling_search.data\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'optuna', 'fvcore'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
