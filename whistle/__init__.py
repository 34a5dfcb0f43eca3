"""Whistle (吹哨报到): the township whistles, the departments report."""

__version__ = "0.1.0"
