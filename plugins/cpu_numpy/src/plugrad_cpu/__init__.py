"""plugrad-cpu: the ``cpu`` device of plugrad, computing with NumPy."""

__version__ = "0.1.0"
