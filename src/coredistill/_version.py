"""The package version, in a leaf module that any part of the package can import."""
__version__ = "0.1.0"
