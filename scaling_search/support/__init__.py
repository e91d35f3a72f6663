"""Shared plumbing: atomic files and folders, the cache, the machine, progress lines, numbers as people read them."""
