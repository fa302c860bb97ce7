"""A protocol 2 pickle writer for plain data and a fixed set of named functions.

It writes what ``pickle`` would for None, booleans, ints, floats, strings, bytes,
lists, tuples, dicts (``OrderedDict`` included) and sets and leaves everything
else (subclasses of tuple and list included) to a ``reduce(obj)`` callback that
returns ``(module, name, args)``: the global to call and its arguments, a bare
global (``("global", module, name)``) or a persistent id (``("persistent", pid)``).
An ``OrderedDict``'s attributes (a state dict's ``_metadata``) are written as
pickle writes them, with ``BUILD``. Shared objects are memoized, so an object
referenced twice loads as one object (and a list that contains itself is written
as pickle writes it). Nothing here pickles arbitrary objects: the callback
decides, and refuses the rest.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

__all__ = ["Pickler", "PROTOCOL"]

PROTOCOL = 2
_MAX_DEPTH = 200
_D8 = struct.Struct(">d")


class Pickler:
    """Writes one object; ``reduce(obj)`` handles what plain data does not cover."""

    def __init__(self, reduce):
        self.reduce = reduce
        self.out = bytearray(b"\x80" + bytes([PROTOCOL]))
        self.memo = {}           # id(obj) -> memo index
        self.keep = []           # memoized objects, so that their ids stay unique
        self.globals = {}        # (module, name) -> memo index

    def dump(self, obj) -> bytes:
        self.save(obj, 0)
        self.out += b"."
        return bytes(self.out)

    # ---- memo ------------------------------------------------------------------------------
    def _put(self, obj):
        i = len(self.memo) + len(self.globals)
        self.memo[id(obj)] = i
        self.keep.append(obj)
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)

    def _get(self, i):
        self.out += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)

    def global_(self, module: str, name: str):
        key = (module, name)
        if key in self.globals:
            self._get(self.globals[key])
            return
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        i = len(self.memo) + len(self.globals)
        self.globals[key] = i
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)

    # ---- values ----------------------------------------------------------------------------
    def save(self, obj, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"plugrad.save: the object is nested more than {_MAX_DEPTH} levels deep")
        out = self.out
        if obj is None:
            out += b"N"
        elif obj is True or obj is False:
            out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, int):
            self._int(int(obj))
        elif isinstance(obj, float):
            out += b"G" + _D8.pack(obj)
        elif isinstance(obj, str):
            self._str(obj)
        elif id(obj) in self.memo:
            self._get(self.memo[id(obj)])
        elif isinstance(obj, (bytes, bytearray)):
            self.global_("builtins" if isinstance(obj, bytearray) else "_codecs",
                         "bytearray" if isinstance(obj, bytearray) else "encode")
            self._str(bytes(obj).decode("latin1"))
            self._str("latin1")
            out += b"\x86R"
            self._put(obj)
        elif type(obj) is tuple:
            self._tuple(obj, depth)
        elif type(obj) is list:
            out += b"]"
            self._put(obj)
            self._batched(obj, depth, b"e")
        elif isinstance(obj, dict):
            if isinstance(obj, OrderedDict):
                self.global_("collections", "OrderedDict")
                out += b")R"
            else:
                out += b"}"
            self._put(obj)
            self._batched([x for kv in obj.items() for x in kv], depth, b"u")
            attrs = getattr(obj, "__dict__", None) if isinstance(obj, OrderedDict) else None
            if attrs:                    # a state dict's ``_metadata``, restored by BUILD as pickle does
                self.save(dict(attrs), depth + 1)
                out += b"b"
        elif type(obj) is set:
            self.global_("builtins", "set")
            self.save(list(obj), depth + 1)
            out += b"\x85R"
            self._put(obj)
        else:
            self._reduce(obj, depth)

    def _int(self, v):
        if 0 <= v < 256:
            self.out += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.out += b"M" + struct.pack("<H", v)
        elif -2 ** 31 <= v < 2 ** 31:
            self.out += b"J" + struct.pack("<i", v)
        else:
            raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            if len(raw) >= 256:
                self.out += b"\x8b" + struct.pack("<i", len(raw)) + raw
            else:
                self.out += b"\x8a" + bytes([len(raw)]) + raw

    def _str(self, s):
        raw = s.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(raw)) + raw

    def _tuple(self, obj, depth):
        if not obj:
            self.out += b")"
            return
        self.out += b"("
        for x in obj:
            self.save(x, depth + 1)
        if id(obj) in self.memo:          # the tuple contains itself through a list: use the memoized one
            self.out += b"1"
            self._get(self.memo[id(obj)])
            return
        self.out += b"t"
        self._put(obj)

    def _batched(self, items, depth, op):
        step = 2 if op == b"u" else 1
        for start in range(0, len(items), 1000 * step):
            self.out += b"("
            for x in items[start:start + 1000 * step]:
                self.save(x, depth + 1)
            self.out += op

    def _reduce(self, obj, depth):
        how = self.reduce(obj)
        if how[0] == "global":
            self.global_(how[1], how[2])
            return
        if how[0] == "persistent":
            self.save(how[1], depth + 1)
            self.out += b"Q"
            return
        module, name, args = how
        self.global_(module, name)
        self.save(args, depth + 1)
        self.out += b"R"
        self._put(obj)
