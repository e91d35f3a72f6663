"""The public API: what `import scaling_search` offers, that each entry's example runs, and that importing is cheap."""

import doctest
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
def test_each_entry_has_a_runnable_example(name):
    entry = getattr(ss, name)
    tests = doctest.DocTestFinder(recurse=False).find(entry, f"scaling_search.{name}", globs={"ss": ss})
    examples = [example for test in tests for example in test.examples]
    assert examples, f"scaling_search.{name} has no example in its docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


@pytest.mark.parametrize("module", ["scaling_search", "scaling_search.train", "scaling_search.step",
                                    "scaling_search.data", "scaling_search.models"])
def test_importing_the_library_and_training_pulls_in_no_search_machinery(module):
    code = (f"import sys, {module}; heavy = sorted({{'ray', 'optuna', 'fvcore'}} & set(sys.modules)); "
            "print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == ""
