"""A pickle reader that runs no code.

Python's ``pickle`` can call any importable function a file names, so a pickle is a
program. This reader interprets pickle's opcodes itself (protocols 0 to 5) over
plain data: numbers, strings, bytes, None, booleans, lists, tuples, dicts, sets.
A ``GLOBAL`` is looked up in an allowlist the caller gives (PyTorch's
``weights_only=True`` set: tensor rebuild functions, storages, dtypes,
``OrderedDict``...), each entry a function of this package that builds plain
data; anything else, ``os.system`` or ``builtins.eval`` included, is refused
before it is looked up anywhere. Opcodes that would call arbitrary classes
(``INST``, ``OBJ``, the copyreg extension registry, out-of-band buffers) are
refused too, and ``BUILD`` only sets plain attributes of an ``OrderedDict`` (a
state dict's ``_metadata``). Every error is a :class:`LoadError`; nothing the
file holds can make it allocate much more than the file's own size.
"""

from __future__ import annotations

import codecs
import struct
from collections import Counter, OrderedDict

from .errors import LoadError

__all__ = ["Allowed", "unpickle", "check_key"]

#: Python 2 module names that protocol 0-2 pickles use (pickle's own _compat_pickle mapping, for the names
#: the allowlist has)
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_MAX_PROTOCOL = 5
_MAX_KEY_DEPTH = 100
_MAX_KEY_NODES = 100_000


class Allowed:
    """A function a pickle may name: ``fn(*args)`` builds plain data (REDUCE, NEWOBJ)."""

    __slots__ = ("qualname", "fn")

    def __init__(self, qualname: str, fn):
        self.qualname, self.fn = qualname, fn

    def __repr__(self):
        return f"<allowed {self.qualname}>"


def check_key(k):
    """``k`` after checking that hashing it is cheap: Python hashes a tuple by hashing
    every member, again for each reference, so a dict key or set member nested
    thousands of tuples deep would overflow the C stack, and 60 levels of tuples
    holding the one below twice would take 2**60 steps."""
    todo, visits = [(k, 0)], 0
    while todo:
        obj, depth = todo.pop()
        visits += 1
        if depth > _MAX_KEY_DEPTH or visits > _MAX_KEY_NODES:
            raise LoadError(f"a dict key or set member is nested more than {_MAX_KEY_DEPTH} levels deep or holds "
                            f"more than {_MAX_KEY_NODES} values")
        if isinstance(obj, (tuple, frozenset)):
            todo.extend((x, depth + 1) for x in obj)
    return k


class _Reader:
    def __init__(self, data: bytes, pos: int, name):
        self.data, self.pos, self.name = data, pos, name

    def read(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise LoadError(f"{self.name}: the pickle is truncated (wants {n} bytes at offset {self.pos}, the data "
                            f"has {len(self.data)})")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def line(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise LoadError(f"{self.name}: the pickle is truncated (a text opcode has no end of line)")
        chunk = self.data[self.pos:end]
        self.pos = end + 1
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.read(n), "little")


def _string_literal(raw: bytes) -> bytes:
    """The bytes of protocol 0's quoted ``STRING`` argument."""
    if len(raw) < 2 or raw[:1] != raw[-1:] or raw[:1] not in (b"'", b'"'):
        raise ValueError("the STRING opcode argument must be quoted")
    return codecs.escape_decode(raw[1:-1])[0]


class _Machine:
    """The pickle virtual machine over plain data (see the module docstring)."""

    def __init__(self, data, pos, name, find_global, persistent_load):
        self.r = _Reader(data, pos, name)
        self.name = name
        self.find_global, self.persistent_load = find_global, persistent_load
        self.stack, self.marks, self.memo = [], [], {}

    def fail(self, why):
        raise LoadError(f"{self.name}: {why}")

    def pop_mark(self) -> list:
        if not self.marks:
            self.fail("the pickle uses a MARK it never set")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def text(self, raw: bytes) -> str:
        return raw.decode("utf-8")

    def run(self):
        r = self.r
        while True:
            op = r.read(1)
            if op == b".":                                       # STOP
                if self.marks or len(self.stack) != 1:
                    self.fail("the pickle ends with an unbalanced stack")
                return self.stack.pop(), r.pos
            handler = _OPS.get(op)
            if handler is None:
                self.fail(f"the pickle uses opcode {op!r} at offset {r.pos - 1}, which loading never runs "
                          f"(it would call arbitrary code or is not a pickle opcode)")
            handler(self)

    # ---- helpers used by the opcode table ----------------------------------------------------
    def push(self, value):
        self.stack.append(value)

    def pop(self):
        if not self.stack:
            self.fail("the pickle pops from an empty stack")
        return self.stack.pop()

    def top(self):
        if not self.stack:
            self.fail("the pickle reads an empty stack")
        return self.stack[-1]

    def get(self, key):
        if key not in self.memo:
            self.fail(f"the pickle refers to memo entry {key}, which it never stored")
        self.push(self.memo[key])

    def put(self, key):
        self.memo[key] = self.top()

    def named(self, fn, *args):
        """``fn(*args)`` (a callback of the caller's), its LoadErrors naming the file."""
        try:
            return fn(*args)
        except LoadError as exc:
            if str(exc).startswith(str(self.name)):
                raise
            raise LoadError(f"{self.name}: {exc}") from None

    def global_(self, module: str, qualname: str):
        module = _PY2_MODULES.get(module, module)
        self.push(self.named(self.find_global, module, qualname))

    def call(self, func, args, how):
        if not isinstance(func, Allowed):
            self.fail(f"the pickle's {how} calls a {type(func).__name__}, which is not an allowed function")
        if not isinstance(args, tuple):
            self.fail(f"the pickle's {how} of {func.qualname} has arguments that are not a tuple")
        self.push(self.named(func.fn, *args))

    def build(self):
        state = self.pop()
        inst = self.top()
        if not state:
            return
        if type(inst) in (OrderedDict, Counter) and isinstance(state, dict) and all(
                isinstance(k, str) and k.isidentifier() and not hasattr(type(inst), k) for k in state):
            inst.__dict__.update(state)
            return
        self.fail(f"the pickle sets the state of a {type(inst).__name__} object, which loading never does")

    def key(self, k):
        return self.named(check_key, k)

    def setitems(self, target, items):
        if not isinstance(target, dict) or len(items) % 2:
            self.fail("the pickle sets dict items on something that is not a dict")
        for i in range(0, len(items), 2):
            target[self.key(items[i])] = items[i + 1]

    def appends(self, target, items):
        if not isinstance(target, list):
            self.fail("the pickle appends to something that is not a list")
        target.extend(items)

    def additems(self, target, items):
        if not isinstance(target, set):
            self.fail("the pickle adds set items to something that is not a set")
        target.update(self.key(x) for x in items)

    def append(self):
        value = self.pop()
        self.appends(self.top(), [value])


def _dict(m):
    out = {}
    m.setitems(out, m.pop_mark())
    m.push(out)


def _frozenset(m):
    m.push(frozenset(m.key(x) for x in m.pop_mark()))


def _int(m):
    line = m.r.line()
    m.push({b"00": False, b"01": True}[line] if line in (b"00", b"01") else int(line))


def _long(m):
    line = m.r.line()
    m.push(int(line[:-1] if line.endswith(b"L") else line))


def _proto(m):
    v = m.r.uint(1)
    if v > _MAX_PROTOCOL:
        m.fail(f"unsupported pickle protocol {v}")


def _frame(m):
    n = m.r.uint(8)
    if n > len(m.r.data) - m.r.pos:
        m.fail("a pickle frame is longer than the data")


def _mark(m):
    m.marks.append(m.stack)
    m.stack = []


def _persid(m, pid):
    m.push(m.named(m.persistent_load, pid))


def _stack_global(m):
    qualname, module = m.pop(), m.pop()
    if not isinstance(module, str) or not isinstance(qualname, str):
        m.fail("STACK_GLOBAL needs two strings")
    m.global_(module, qualname)


def _newobj_ex(m):
    kwargs, args, cls = m.pop(), m.pop(), m.pop()
    if kwargs:
        m.fail("the pickle's NEWOBJ_EX passes keyword arguments, which loading never does")
    m.call(cls, args, "NEWOBJ_EX")


_S = struct.Struct
_I4, _D8 = _S("<i"), _S(">d")

_OPS = {
    b"\x80": _proto, b"\x95": _frame, b"(": _mark,
    b"0": lambda m: m.pop(),
    b"1": lambda m: m.pop_mark(),
    b"2": lambda m: m.push(m.top()),
    # numbers
    b"I": _int,
    b"J": lambda m: m.push(_I4.unpack(m.r.read(4))[0]),
    b"K": lambda m: m.push(m.r.uint(1)),
    b"M": lambda m: m.push(m.r.uint(2)),
    b"L": _long,
    b"\x8a": lambda m: m.push(int.from_bytes(m.r.read(m.r.uint(1)), "little", signed=True)),
    b"\x8b": lambda m: m.push(int.from_bytes(m.r.read(_I4.unpack(m.r.read(4))[0]), "little", signed=True)),
    b"F": lambda m: m.push(float(m.r.line())),
    b"G": lambda m: m.push(_D8.unpack(m.r.read(8))[0]),
    # strings and bytes
    b"S": lambda m: m.push(m.text(_string_literal(m.r.line()))),
    b"T": lambda m: m.push(m.text(m.r.read(_I4.unpack(m.r.read(4))[0]))),
    b"U": lambda m: m.push(m.text(m.r.read(m.r.uint(1)))),
    b"V": lambda m: m.push(m.r.line().decode("raw-unicode-escape")),
    b"X": lambda m: m.push(m.r.read(m.r.uint(4)).decode("utf-8", "surrogatepass")),
    b"\x8c": lambda m: m.push(m.r.read(m.r.uint(1)).decode("utf-8", "surrogatepass")),
    b"\x8d": lambda m: m.push(m.r.read(m.r.uint(8)).decode("utf-8", "surrogatepass")),
    b"B": lambda m: m.push(m.r.read(m.r.uint(4))),
    b"C": lambda m: m.push(m.r.read(m.r.uint(1))),
    b"\x8e": lambda m: m.push(m.r.read(m.r.uint(8))),
    b"\x96": lambda m: m.push(bytearray(m.r.read(m.r.uint(8)))),
    # constants
    b"N": lambda m: m.push(None),
    b"\x88": lambda m: m.push(True),
    b"\x89": lambda m: m.push(False),
    # containers
    b")": lambda m: m.push(()),
    b"t": lambda m: m.push(tuple(m.pop_mark())),
    b"\x85": lambda m: m.push((m.pop(),)),
    b"\x86": lambda m: m.push(tuple(reversed([m.pop(), m.pop()]))),
    b"\x87": lambda m: m.push(tuple(reversed([m.pop(), m.pop(), m.pop()]))),
    b"]": lambda m: m.push([]),
    b"l": lambda m: m.push(m.pop_mark()),
    b"a": lambda m: m.append(),
    b"e": lambda m: (lambda items: m.appends(m.top(), items))(m.pop_mark()),
    b"}": lambda m: m.push({}),
    b"d": _dict,
    b"s": lambda m: (lambda v, k: m.setitems(m.top(), [k, v]))(m.pop(), m.pop()),
    b"u": lambda m: (lambda items: m.setitems(m.top(), items))(m.pop_mark()),
    b"\x8f": lambda m: m.push(set()),
    b"\x90": lambda m: (lambda items: m.additems(m.top(), items))(m.pop_mark()),
    b"\x91": _frozenset,
    # memo
    b"g": lambda m: m.get(int(m.r.line())),
    b"h": lambda m: m.get(m.r.uint(1)),
    b"j": lambda m: m.get(m.r.uint(4)),
    b"p": lambda m: m.put(int(m.r.line())),
    b"q": lambda m: m.put(m.r.uint(1)),
    b"r": lambda m: m.put(m.r.uint(4)),
    b"\x94": lambda m: m.put(len(m.memo)),
    # names, calls and persistent ids: only what the caller allows
    b"c": lambda m: m.global_(m.r.line().decode("utf-8"), m.r.line().decode("utf-8")),
    b"\x93": _stack_global,
    b"R": lambda m: (lambda args, func: m.call(func, args, "REDUCE"))(m.pop(), m.pop()),
    b"\x81": lambda m: (lambda args, cls: m.call(cls, args, "NEWOBJ"))(m.pop(), m.pop()),
    b"\x92": _newobj_ex,
    b"b": lambda m: m.build(),
    b"P": lambda m: _persid(m, m.r.line().decode("ascii")),
    b"Q": lambda m: _persid(m, m.pop()),
}


def unpickle(data: bytes, name, find_global, persistent_load, pos: int = 0) -> tuple:
    """``(object, end offset)`` of the pickle starting at ``data[pos]``.

    ``find_global(module, name)`` returns what a ``GLOBAL`` stands for (an
    :class:`Allowed` function or a plain value) or raises LoadError;
    ``persistent_load(pid)`` resolves persistent ids (the storages of a checkpoint)."""
    machine = _Machine(data, pos, name, find_global, persistent_load)
    try:
        return machine.run()
    except LoadError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, AttributeError, OverflowError, struct.error,
            UnicodeError, RecursionError, MemoryError, RuntimeError) as exc:   # RuntimeError: a tensor's truth value
        raise LoadError(f"{name}: the pickle is malformed ({type(exc).__name__}: {str(exc)[:200]})") from None
