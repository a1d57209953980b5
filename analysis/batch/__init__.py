"""Whole folders at once on a Dask cluster: the run, its tables and its report."""
