"""Which (alpha, beta, gamma): the grid under the cost constraint, derived families, plateaus, scale-up members."""
