"""SciApps: the science application store for ESA Datalabs."""

__version__ = "0.1.0"
