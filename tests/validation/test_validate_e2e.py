"""``validate`` end to end on CPU: a tiny study validated, killed with SIGKILL, resumed exactly, then reported."""

from __future__ import annotations

import json
import signal
import subprocess

import optuna
import pytest
from optuna.trial import TrialState

from scaling_search.search.results import VAL_CORRECT
from scaling_search.validation.options import validation_study_name
from tests.search_helpers import cli, cli_env, run_argv, stop_group, tiny_definition, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def validation_trials(definition) -> list:
    storage = optuna.storages.RDBStorage(definition.storage_url(), skip_table_creation=True)
    return optuna.load_study(study_name=validation_study_name(definition.study), storage=storage).get_trials()


def test_validate_survives_sigkill_and_resume_with_exact_counts_then_reports(tmp_path, ray_dir):
    definition = tiny_definition(tmp_path, study="checked")
    made = subprocess.run(run_argv(definition, "--ray-temp-dir", ray_dir), capture_output=True, text=True,
                          timeout=400, env=cli_env(tmp_path))
    assert made.returncode == 0, made.stderr[-3000:]
    where = ["--studies-dir", definition.studies_dir, "--ray-temp-dir", ray_dir]
    # 3 compound candidates and the paper's point x 2 fresh seeds, then 5 members at phi 2 x 2 seeds: 18 runs
    argv = cli("validate", "checked", "--epochs-factor", "2", "--seeds", "2", "--max-concurrent", "1", *where)
    driver = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=cli_env(tmp_path),
                              start_new_session=True)
    try:
        def midway() -> bool:
            try:
                trials = validation_trials(definition)
            except Exception:  # not created yet
                return False
            done = sum(t.state == TrialState.COMPLETE for t in trials)
            return done >= 2 and any(t.state == TrialState.RUNNING for t in trials)

        if not wait_for(midway, timeout=420):
            stop_group(driver)
            pytest.fail(f"no validation trial ran; the driver said:\n{driver.communicate()[0].decode()[-3000:]}")
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
    finally:
        stop_group(driver)
    before = validation_trials(definition)
    assert len(before) == 18 and any(t.state == TrialState.RUNNING for t in before)
    finished = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}

    refused = subprocess.run(cli("validate", "checked", *where), capture_output=True, text=True, timeout=120,
                             env=cli_env(tmp_path))
    assert refused.returncode == 2 and "continue it with --resume" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    resumed = subprocess.run(cli("validate", "checked", "--resume", *where), capture_output=True, text=True,
                             timeout=600, env=cli_env(tmp_path))
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = validation_trials(definition)
    assert len(after) == 18 and all(t.state == TrialState.COMPLETE for t in after)  # none lost, none duplicated
    assert len({t.user_attrs["key"] for t in after}) == 18
    for number, value in finished.items():  # finished runs were not run again
        assert after[number].value == value
    assert all(t.system_attrs.get(VAL_CORRECT) for t in after)
    fidelity = [t for t in after if t.user_attrs["stage"] == "fidelity"]
    scale_up = [t for t in after if t.user_attrs["stage"] == "scaleup"]
    assert len(fidelity) == 8 and {t.params["seed"] for t in after} == {2000, 2001}
    assert {t.user_attrs["planned_epochs"] for t in fidelity} == {2} and {t.user_attrs["epochs"] for t in fidelity} \
        == {2}
    assert {t.user_attrs["phi"] for t in scale_up} == {2.0} and {t.user_attrs["epochs"] for t in scale_up} == {1}
    assert "Spearman rho" in resumed.stdout and "scale-up at phi = 2" in resumed.stdout
    for kind in ("study", "paper", "depth-only", "width-only", "resolution-only"):
        assert kind in resumed.stdout

    saved = json.loads((tmp_path / "studies" / "checked" / "validation.json").read_text())
    found = saved["fidelity"]["rank_fidelity"]
    assert len(found["candidates"]) == 4 and found["seeds"] == 2
    assert (found["spearman_ci95"] is not None) != found["spearman_steady"]  # an interval, or steady and none
    assert found["permutation_p"] >= 1 / 24  # 4 candidates: 1/4! at best, so no verdict
    assert saved["fidelity"]["sentence"].startswith("No verdict from 4 candidates")
    assert -1 <= found["spearman"] <= 1 and -1 <= found["kendall"] <= 1
    assert [member["kind"] for member in saved["scale_up"][0]["members"]] == [
        "study", "paper", "depth-only", "width-only", "resolution-only"]
    assert all(member["n_seeds"] == 2 for member in saved["scale_up"][0]["members"])
    members = saved["scale_up"][0]["members"]  # judged only when matched at the cost scale and where trained
    assert {c["against"] for c in saved["scale_up"][0]["comparisons"]} == {
        member["kind"] for member in members[1:] if member["comparable"]}
    assert all(member["not_judged"].endswith("shown, not judged") for member in members[1:]
               if not member["comparable"])

    again = subprocess.run(cli("validate", "checked", "--json", *where), capture_output=True, text=True, timeout=120,
                           env=cli_env(tmp_path))
    assert again.returncode == 0 and "nothing to train" in again.stderr
    payload = json.loads(again.stdout)
    assert payload["trained"] is False and payload["fidelity"]["rank_fidelity"] == found
    assert len(validation_trials(definition)) == 18

    more = subprocess.run(cli("validate", "checked", "--scale-up-only", "--phis", "3", *where), capture_output=True,
                          text=True, timeout=600, env=cli_env(tmp_path))
    assert more.returncode == 0, more.stderr[-3000:]
    grown = validation_trials(definition)
    assert len(grown) == 28 and sorted({t.user_attrs["phi"] for t in grown}) == [1.0, 2.0, 3.0]

    report = subprocess.run(cli("report", "checked", "--studies-dir", definition.studies_dir, "--out",
                                str(tmp_path / "report")), capture_output=True, text=True, timeout=300,
                            env=cli_env(tmp_path))
    assert report.returncode == 0, report.stderr[-3000:]
    index = (tmp_path / "report" / "index.md").read_text()
    assert "## Does the answer hold?" in index and "### Scaled up to φ = 3" in index
    for figure in ("proxy_vs_long.png", "scale_up_phi2.png", "scale_up_phi3.png"):
        assert (tmp_path / "report" / "figures" / figure).stat().st_size > 0
        assert f"figures/{figure}" in index
