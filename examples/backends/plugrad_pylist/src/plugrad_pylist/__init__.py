"""plugrad-pylist: an example plugrad device in plain Python, the template for backend authors."""

__version__ = "0.1.0"
