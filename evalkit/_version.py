"""The installed version of evalkit."""

__version__ = "0.1.0"
