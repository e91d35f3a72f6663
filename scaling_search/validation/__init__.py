"""Does a study's answer hold? Rank fidelity on longer training, and the scale-up check.

A short proxy run at a small resolution is useful only if its ranking survives longer training
and larger scale (Bello et al. 2021 found the best scaling strategy flips between short and long
training; Radosavovic et al. 2019 rank designs with several runs because single short runs
mislead). :func:`validate_study` runs two checks on a finished study, as trials of the linked
Optuna study ``<study>.validate`` in the same storage:

* **rank fidelity**: at least K of the study's candidates (distinct networks; contenders first, the
  paper's point always) are retrained for ``epochs_factor`` × the study's epochs on fresh seeds,
  and Spearman's ρ and Kendall's τ between their proxy and long scores come with bootstrap
  intervals and a permutation p; "agree" needs at least 5 candidates and p < 0.05
  (:func:`scaling_search.stats.fidelity.rank_fidelity`);
* **scale-up** (the paper's Figure 3 and Table 3): at a larger φ, the member built from the study's
  coefficients against the paper's member and the depth-, width- and resolution-only members
  matched to its cost at the study's cost scale (:func:`scaling_search.coefficients.scaleup.scale_up_members`),
  all on the same seeds, compared by paired differences with 95 % intervals — only those members
  that also train with the study member's compute at the proxy; the others are shown, not judged.
"""
