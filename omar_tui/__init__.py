"""omar-tui: send meter data files to CAISO OMAR-Online from a terminal."""

__version__ = "0.1.0"
