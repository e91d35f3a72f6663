"""scaling-search: find, check and extend compound-scaling rules for convolutional networks."""

__version__ = "0.1.0"
