"""siteinspect: construction quality and safety inspection for old residential community renovation."""

__version__ = "0.1.0"
