"""Statistics of a study's runs: paired comparisons with intervals, and rank fidelity."""
