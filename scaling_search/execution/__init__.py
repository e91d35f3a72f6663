"""Running a study: Ray (the cluster), the study session that the search and the validation share, a worker's trial."""
