"""The op table: every op by name, for the code that calls ops without importing them.

plugrad's core reads in layers, each importing only the layers below it at module
level: dtypes and layouts, then ``Tensor`` and the autograd graph, then the ops,
then ``nn``/``optim``/``utils``. Some code must still call *up* at run time: a
``Tensor`` method runs the engine, the engine sums a gradient with ``sum_to``, a
backward formula of one op family uses an op of another (``where`` in indexing,
``cat`` in reductions). Such code calls ``ops.<name>``: this module imports
nothing from plugrad, and the op modules fill the table as they load
(``plugrad.ops.declare``). A name is looked up when it is called, never at import,
so the import graph stays a tree and a module may move without breaking the load
order.

``ops.add`` is the same function object as ``plugrad.add``; the lookup costs one
attribute read, like a module global.
"""

from __future__ import annotations

__all__ = ["ops", "OpTable"]


class OpTable:
    """Attribute access to the ops registered so far (``ops.where``, ``ops.zeros``...).

    A name that no module has registered raises AttributeError naming it, so a typo
    or a call made before the op layer loaded says so instead of returning None."""

    def register(self, name: str, fn) -> None:
        """Make ``fn`` reachable as ``ops.<name>`` (a later registration replaces it)."""
        setattr(self, name, fn)

    def __getattr__(self, name):
        raise AttributeError(f"no op named {name!r} is registered in plugrad's op table (the op layer registers "
                             f"its ops when plugrad.ops is imported)")

    def __repr__(self) -> str:
        return f"<plugrad op table: {len(vars(self))} ops>"


#: the one table
ops = OpTable()
