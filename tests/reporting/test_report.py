"""Reports from studies written directly through Optuna's API, with known values."""

from __future__ import annotations

import csv
import json
import statistics
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from scaling_search.cli import main
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.schema import stamp
from scaling_search.study.sizing import resolve_for_device
from tests.cli_helpers import one_error_line
from tests.search_helpers import contender_attrs

SPACE = {"alpha": FloatDistribution(1.0, 2.0), "beta": FloatDistribution(1.0, 1.5),
         "gamma": FloatDistribution(1.0, 1.5), "seed": IntDistribution(0, 9)}


def make_study(tmp_path, name: str, candidates: dict, states=None) -> StudyDefinition:
    """``candidates`` maps (alpha, beta, gamma, kind) to per-seed validation accuracies."""
    definition = resolve_for_device(StudyDefinition(study=name, studies_dir=str(tmp_path / "studies"),
                                                    base_resolution=32), gpus=0)
    (tmp_path / "studies").mkdir(exist_ok=True)
    study = optuna.create_study(study_name=name, storage=definition.storage_url(), direction="maximize")
    study.set_user_attr("definition", definition.to_dict())
    stamp(study)  # as scaling-search run stores a study: this version's schema
    study.set_user_attr("num_classes", 10)
    study.set_user_attr("native_resolution", 32)
    for (alpha, beta, gamma, kind), values in candidates.items():
        for seed, value in enumerate(values):
            state = (states or {}).get((alpha, beta, gamma), TrialState.COMPLETE)
            attrs = {"key": f"a{alpha}-b{beta}-g{gamma}/seed{seed}", "candidate": f"a{alpha}-b{beta}-g{gamma}",
                     "kind": kind, "macs": int(1e7 * alpha * beta**2 * gamma**2), "measured_ratio": alpha * beta,
                     "nominal_ratio": alpha * beta**2 * gamma**2, "params": 5_000_000, "activations": 200_000,
                     "resolution": round(32 * gamma), "test_acc": value - 0.01, "wall_s": 10.0,
                     "cost_resolution": 4 * round(56 * gamma), "proxy_ratio": 2 * alpha * beta,
                     "on_constraint": kind == "compound",
                     **contender_attrs(kind == "compound", round(32 * gamma)),
                     "status": "ok" if state == TrialState.COMPLETE else "failed",
                     "reason": None if state == TrialState.COMPLETE else "boom", "hardware": "test CPU"}
            study.add_trial(create_trial(
                params={"alpha": alpha, "beta": beta, "gamma": gamma, "seed": seed}, distributions=SPACE,
                value=value if state == TrialState.COMPLETE else None, state=state, user_attrs=attrs,
                intermediate_values={1: value} if state == TrialState.COMPLETE else {}))
    return definition


def report(tmp_path, name, *extra):
    return main(["report", name, "--studies-dir", str(tmp_path / "studies"), "--out", str(tmp_path / "out"), *extra])


WINNER = {(1.2, 1.1, 1.15, "reference"): [0.70, 0.71, 0.69],
          (1.0, 1.1, 1.3, "compound"): [0.80, 0.81, 0.82],
          (1.4, 1.1, 1.05, "compound"): [0.60, 0.62, 0.58]}


def test_an_off_constraint_candidate_is_shown_but_never_the_best(tmp_path, capsys):
    """The paper's point at another cost, or a baseline, used to be exported as the best when it scored highest."""
    make_study(tmp_path, "unequal", {(1.2, 1.1, 1.15, "reference"): [0.90, 0.91],
                                     (1.0, 1.0, 1.41, "resolution-only"): [0.88, 0.89],
                                     (1.0, 1.1, 1.3, "compound"): [0.80, 0.81],
                                     (1.4, 1.1, 1.05, "compound"): [0.70, 0.71]})
    assert report(tmp_path, "unequal") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "The winning network (a1.0-b1.1-g1.3)" in index  # the exported coefficients are its plateau's midpoint
    assert "Against the runner-up: a1.0-b1.1-g1.3 vs a1.4-b1.1-g1.05" in index
    assert "Against the paper's (1.2, 1.1, 1.15) (off the constraint" in index
    rows = list(csv.DictReader((tmp_path / "out" / "alpha_beta_gamma.csv").read_text().splitlines()))
    assert [(r["kind"], r["constraint"]) for r in rows] == [
        ("reference", "off-constraint"), ("resolution-only", "off-constraint"), ("compound", ""), ("compound", "")]
    assert "## Compound against single-dimension scaling" in index  # the baseline beside the compound nearest in cost
    assert "resolution-only (1, 1, 1.41), 20 M MACs: 0.8850; compound (1, 1.1, 1.3), 20 M MACs" in index


def test_tables_numbers_ranks_and_separable_winner(tmp_path, capsys):
    make_study(tmp_path, "clear", WINNER)
    assert report(tmp_path, "clear") == 0
    rows = list(csv.DictReader((tmp_path / "out" / "alpha_beta_gamma.csv").read_text().splitlines()))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3]
    assert [(float(r["alpha"]), float(r["beta"]), float(r["gamma"])) for r in rows] == [
        (1.0, 1.1, 1.3), (1.2, 1.1, 1.15), (1.4, 1.1, 1.05)]
    top = rows[0]
    assert top["val_acc"] == f"{statistics.mean([0.80, 0.81, 0.82]):.4f} ± {statistics.stdev([0.80, 0.81, 0.82]):.4f}"
    assert int(top["n_seeds"]) == 3
    assert float(top["test_acc"]) == pytest.approx(0.80)
    assert rows[1]["paper"] and not rows[0]["paper"]
    index = (tmp_path / "out" / "index.md").read_text()
    assert ": resolved" in index and "not resolved" not in index and "tied" not in index
    assert "![accuracy against measured MACs](figures/accuracy_vs_macs.png)" in index
    markdown = (tmp_path / "out" / "alpha_beta_gamma.md").read_text()
    assert "| 1 | 1.000 | 1.100 | 1.300 |" in markdown
    tex = (tmp_path / "out" / "alpha_beta_gamma.tex").read_text()
    assert r"\begin{tabular}" in tex and r"$\pm$" in tex
    family = list(csv.DictReader((tmp_path / "out" / "family.csv").read_text().splitlines()))
    assert len(family) == 16 and {r["source"] for r in family} == {"derived", "released"}
    released = {r["name"]: r for r in family if r["source"] == "released"}
    assert released["b4"]["macs_vs_paper"].startswith("+4.") and released["b0"]["macs_vs_paper"] == ""


def test_note_is_shown_under_the_title(tmp_path):
    make_study(tmp_path, "noted", WINNER)
    assert report(tmp_path, "noted", "--note", "Reduced to fit a CPU.") == 0
    assert "> Reduced to fit a CPU." in (tmp_path / "out" / "index.md").read_text().splitlines()[2]


def test_an_unresolved_difference_is_not_called_a_tie(tmp_path):
    make_study(tmp_path, "tie", {(1.0, 1.1, 1.3, "compound"): [0.80, 0.70, 0.75],
                                 (1.2, 1.1, 1.15, "reference"): [0.76, 0.74, 0.73]})
    assert report(tmp_path, "tie") == 0
    index = (tmp_path / "out" / "index.md").read_text()
    assert "not resolved at this budget" in index and "tied" not in index
    assert "It cannot conclude that the winner beats the paper's (1.2, 1.1, 1.15)" in index


def test_single_seed_cannot_tell(tmp_path):
    make_study(tmp_path, "single", {(1.0, 1.1, 1.3, "compound"): [0.9], (1.2, 1.1, 1.15, "reference"): [0.5]})
    assert report(tmp_path, "single") == 0
    assert "cannot tell" in (tmp_path / "out" / "index.md").read_text()


def test_figures_are_valid_images(tmp_path):
    candidates = dict(WINNER)
    candidates[(2.0, 1.0, 1.0, "depth-only")] = [0.5, 0.52]
    candidates[(1.0, 1.414, 1.0, "width-only")] = [0.55, 0.56]
    candidates[(1.0, 1.0, 1.414, "resolution-only")] = [0.65, 0.66]
    make_study(tmp_path, "figs", candidates)
    assert report(tmp_path, "figs", "--format", "md") == 0
    folder = tmp_path / "out" / "figures"
    names = {"accuracy_vs_macs", "accuracy_vs_activations", "accuracy_over_alpha_beta", "family_growth",
             "scaling_methods"}
    for name in names:
        png = (folder / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
        root = ElementTree.parse(folder / f"{name}.svg").getroot()
        assert root.tag.endswith("svg") and len(list(root.iter())) > 50
    assert not (tmp_path / "out" / "alpha_beta_gamma.csv").exists()  # --format md only
    index = (tmp_path / "out" / "index.md").read_text()
    assert "scaling_methods.png" in index and "accuracy_vs_activations.png" in index
    assert not (folder / "accuracy_vs_latency.png").exists()  # a MACs study timed nothing


@pytest.mark.slow  # measures every network with fvcore
def test_paper_report_params_exact_macs_close_to_analytic(tmp_path, capsys):
    assert main(["report", "--paper", "--out", str(tmp_path / "paper"), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["index"] == str((tmp_path / "paper" / "index.md").resolve())
    assert {Path(f).name for f in written["files"]} >= {"index.md", "released_family.csv", "family_growth.svg"}
    assert all(Path(f).is_file() for f in written["files"])
    rows = list(csv.DictReader((tmp_path / "paper" / "released_family.csv").read_text().splitlines()))
    params = {r["name"]: int(r["params"]) for r in rows}
    assert params["b0"] == 5_288_548 and params["b7"] == 66_347_960
    for row in rows:
        assert abs(int(row["macs"]) / int(row["analytic_macs"]) - 1) < 0.005
    assert "![cost growth" in (tmp_path / "paper" / "index.md").read_text()
    assert (tmp_path / "paper" / "figures" / "family_growth.png").stat().st_size > 5000


def test_bad_input(tmp_path, capsys):
    (tmp_path / "studies").mkdir()
    assert "no study 'nope'" in one_error_line(report(tmp_path, "nope"), *capsys.readouterr())
    optuna.create_study(study_name="empty", storage=f"sqlite:///{tmp_path / 'studies' / 'empty.db'}")
    assert "not made by scaling-search" in one_error_line(report(tmp_path, "empty"), *capsys.readouterr())
    make_study(tmp_path, "vacant", {})
    assert "no trials" in one_error_line(report(tmp_path, "vacant"), *capsys.readouterr())
    make_study(tmp_path, "failed", {(1.0, 1.1, 1.3, "compound"): [0.5]},
               states={(1.0, 1.1, 1.3): TrialState.FAIL})
    assert "no completed trial" in one_error_line(report(tmp_path, "failed"), *capsys.readouterr())
    assert not (tmp_path / "out").exists()
    assert "--format" in one_error_line(report(tmp_path, "failed", "--format", "pdf"), *capsys.readouterr())
    missing = tmp_path / "elsewhere" / "x.db"
    code = main(["report", "x", "--storage", f"sqlite:///{missing}"])
    assert "no study database at" in one_error_line(code, *capsys.readouterr())
    assert not (tmp_path / "elsewhere").exists()  # reading never creates a database


def test_unwritable_output_leaves_nothing(tmp_path, capsys):
    """An output folder that cannot be made (its parent is a file: unwritable even for root)."""
    make_study(tmp_path, "ro", WINNER)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    code = main(["report", "ro", "--studies-dir", str(tmp_path / "studies"), "--out", str(blocker / "r")])
    assert "cannot write" in one_error_line(code, *capsys.readouterr())
    assert blocker.read_text() == "a file, not a folder"


def test_output_that_is_not_a_report_is_never_replaced(tmp_path, capsys, monkeypatch):
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    monkeypatch.chdir(precious)
    for out, message in ((".", "is not a report folder"), ("", "--out: must not be empty"),
                         ("notes.txt", "is a file; the report needs a folder of its own")):
        assert message in one_error_line(main(["report", "--paper", "--out", out]), *capsys.readouterr())
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2\n")
    assert "holds other files and is not an earlier report" in one_error_line(
        main(["report", "--paper", "--out", str(other)]), *capsys.readouterr())
    assert (precious / "notes.txt").read_text() == "keep me" and (other / "data.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "work"]  # no staging folder left behind
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", "--paper", "--out", str(empty)]) == 0
    assert main(["report", "--paper", "--out", str(empty)]) == 0  # an earlier report is replaced
    assert (empty / "index.md").is_file()
    capsys.readouterr()
    (empty / "design.md").write_text("a user's own notes, added later")
    (empty / "figures" / "mine").mkdir()
    assert "holds files its earlier report did not write (design.md" in one_error_line(
        main(["report", "--paper", "--out", str(empty)]), *capsys.readouterr())
    assert (empty / "design.md").exists() and (empty / "figures" / "mine").is_dir()
    (empty / "design.md").unlink()
    (empty / "figures" / "mine").rmdir()
    (empty / ".DS_Store").write_bytes(b"\0")  # what a desktop adds by showing the folder
    (empty / ".report-files").unlink()  # as reports written before the manifest existed
    assert main(["report", "--paper", "--out", str(empty)]) == 0
    capsys.readouterr()
    docs = tmp_path / "docs"  # a folder with an index.md of its own is not a report
    docs.mkdir()
    (docs / "index.md").write_text("# docs")
    code = main(["report", "--paper", "--out", str(docs)])
    assert "not an earlier report" in one_error_line(code, *capsys.readouterr())
    assert (docs / "index.md").read_text() == "# docs"


def test_failed_write_leaves_no_partial_report(tmp_path, capsys, monkeypatch):
    """A failure midway (here: the figure step) removes the staging folder and keeps the old report."""
    make_study(tmp_path, "partial", WINNER)
    assert report(tmp_path, "partial") == 0
    capsys.readouterr()
    before = sorted(p.name for p in (tmp_path / "out").iterdir())

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scaling_search.reporting.figures.family_growth", disk_full)
    assert "No space left" in one_error_line(report(tmp_path, "partial"), *capsys.readouterr())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.slow
def test_500_trials_report(tmp_path):
    candidates = {(round(1 + i * 0.01, 2), 1.1, 1.15, "compound"): [0.5 + (i % 7) * 0.01 + s * 0.001 for s in range(5)]
                  for i in range(100)}
    make_study(tmp_path, "big", candidates)
    assert report(tmp_path, "big") == 0


def test_report_api_writes_the_same_report_as_the_command(tmp_path):
    from scaling_search.reporting.api import report as write

    make_study(tmp_path, "api", WINNER)
    folder = write("api", studies_dir=tmp_path / "studies", out=tmp_path / "api-report", formats=["csv", "md"],
                   note="Written through the API.")
    assert folder == (tmp_path / "api-report").resolve()
    assert (folder / "index.md").read_text().splitlines()[2] == "> Written through the API."
    assert (folder / "alpha_beta_gamma.csv").exists() and not (folder / "alpha_beta_gamma.tex").exists()
    storage = f"sqlite:///{tmp_path / 'studies' / 'api.db'}"
    assert write("api", storage=storage, out=tmp_path / "api-report") == folder  # an earlier report is replaced
    assert (folder / "alpha_beta_gamma.tex").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "name a study to report"),
        ({"study": "s", "paper": True}, "give no study name"),
        ({"study": "nope"}, "no study 'nope': no study file"),
        ({"study": "../up"}, "study name"),
        ({"paper": True, "formats": ["pdf"]}, "report formats are some of md, csv, tex"),
        ({"paper": True, "formats": []}, "got none"),
        ({"paper": True, "out": ""}, "output folder is empty"),
    ],
)
def test_report_api_bad_input(tmp_path, kwargs, message):
    from scaling_search.errors import InputError
    from scaling_search.reporting.api import report as write

    with pytest.raises(InputError, match=message):
        write(**{"studies_dir": tmp_path, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_best_json_holds_only_a_compound_candidate_on_the_constraint(tmp_path):
    from scaling_search.search.answer import study_answer

    definition = make_study(tmp_path, "eligible", {(1.2, 1.1, 1.15, "reference"): [0.9],
                                                   (2.0, 1.0, 1.0, "depth-only"): [0.85],
                                                   (1.4, 1.1, 1.05, "compound"): [0.7]})
    trials = optuna.load_study(study_name="eligible", storage=definition.storage_url()).get_trials()
    best = study_answer(trials, definition, num_classes=10).to_json()
    assert (best["kind"], best["trained"]["alpha"], best["cost_resolution"]) == ("compound", 1.4, 236)
    only_off = [t for t in trials if t.user_attrs["kind"] != "compound"]
    assert study_answer(only_off, definition, num_classes=10) is None
