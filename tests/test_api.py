"""The public API: what `import scaling_search` offers, that each entry's example runs, and that importing is cheap."""

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import scaling_search as ss

API = ["scale", "build", "count", "candidates", "derive", "load_dataset", "train_proxy", "ProxyResult",
       "StudyDefinition", "run_study", "report", "GridSpec", "Layout", "InputError"]
"""What issue #11 asks the package to offer at the top level, at least."""

ENTRIES = [name for name in ss.__all__ if name != "__version__"]


def test_all_lists_the_api():
    assert set(API) <= set(ss.__all__)
    assert sorted(set(dir(ss))) == sorted(dir(ss)) and set(ss.__all__) <= set(dir(ss))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ss.nope  # noqa: B018


@pytest.mark.parametrize("name", ENTRIES)
def test_each_entry_has_an_example(name):
    tests = doctest.DocTestFinder(recurse=False).find(getattr(ss, name), f"scaling_search.{name}")
    assert any(test.examples for test in tests), f"scaling_search.{name} has no >>> example in its docstring"


def package_examples() -> list[doctest.DocTest]:
    """Every docstring example in the package (the public entries' and the rest), found the way pytest would."""
    finder = doctest.DocTestFinder()
    found = []
    for module in pkgutil.walk_packages(ss.__path__, "scaling_search."):
        if module.name != "scaling_search.__main__":
            found += [test for test in finder.find(importlib.import_module(module.name)) if test.examples]
    return sorted(found, key=lambda test: test.name)


@pytest.mark.parametrize("example", package_examples(), ids=lambda test: test.name.removeprefix("scaling_search."))
def test_docstring_example_runs(example):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(example)
    assert runner.summarize(verbose=False).failed == 0, f"{example.name}'s example failed (its output is above)"


@pytest.mark.parametrize("module", ["scaling_search", "scaling_search.training.proxy", "scaling_search.training.step",
                                    "scaling_search.data", "scaling_search.models", "scaling_search.counting.latency"])
def test_importing_the_library_and_training_pulls_in_no_search_machinery(module):
    code = (f"import sys, {module}; heavy = sorted({{'ray', 'optuna', 'fvcore'}} & set(sys.modules)); "
            "print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == ""
