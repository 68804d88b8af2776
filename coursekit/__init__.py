"""coursekit: the helper package behind the CNN course notebooks."""
__version__ = "0.1.0"
