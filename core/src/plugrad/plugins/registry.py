"""Finding plugins, checking them, and handing out one backend object per device.

Loading never breaks ``import plugrad``: a plugin that fails to import, fails to
register or declares an incompatible kernel interface is recorded with its
traceback and skipped. The failure is raised only when its device is asked for,
and ``python -m plugrad info`` shows it. Set ``PLUGRAD_AUTOLOAD=0`` to load no
plugin automatically (then call :func:`register_plugin` yourself).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable, Iterable

import pluggy

from .._version import __version__
from ..backend import KERNEL_INTERFACE_VERSION, Backend, UnsupportedOperation, kernels_added_after
from ..device import device
from . import hookspec as _hookspec

__all__ = ["BackendSpec", "Expectations", "PluginRecord", "DeviceModule", "DeviceTypeUnavailable", "register_plugin",
           "load_plugins", "backend_for", "device_types", "plugin_records"]

ENTRY_POINT_GROUP = "plugrad"


@dataclass
class BackendSpec:
    """What a plugin tells the core about one device type.

    ``factory(index)`` builds the :class:`~plugrad.backend.Backend` for device
    ``index`` the first time it is used. ``device_count`` and ``device_name`` must
    be cheap enough for ``is_available()``; ``dtypes(index)`` lists the dtypes the
    device computes in (for reports; the backend's own ``dtypes`` is what is
    enforced). Devices with ``indexed=False`` (like ``cpu``) have no index.
    """

    device_type: str
    interface_version: str
    factory: Callable[[int], Backend]
    device_count: Callable[[], int] = lambda: 1
    device_name: Callable[[int], str] = lambda index: ""
    dtypes: Callable[[int], Iterable] = lambda index: ()
    indexed: bool = True
    description: str = ""


@dataclass
class Expectations:
    """What a device declares to the conformance suite: ops it skips and ops it is
    known to fail, each mapped to a reason a user would accept."""

    skip: dict = field(default_factory=dict)
    xfail: dict = field(default_factory=dict)


@dataclass
class PluginRecord:
    """One discovered plugin: where it came from and how loading went."""

    name: str
    distribution: str = ""
    version: str = ""
    status: str = "loaded"        # loaded | failed | refused
    error: str = ""               # traceback or reason, when not loaded
    device_types: list = field(default_factory=list)


class _DeviceType:
    __slots__ = ("spec", "plugin", "backends", "errors")

    def __init__(self, spec: BackendSpec, plugin: PluginRecord):
        self.spec = spec
        self.plugin = plugin
        self.backends = {}
        self.errors = {}


_pm = pluggy.PluginManager(_hookspec.PROJECT)
_pm.add_hookspecs(_hookspec)
_types: dict = {}          # device type name -> _DeviceType
_records: list = []        # PluginRecord, in discovery order
_backends: dict = {}       # device -> Backend (the per-op fast path reads this)
_create_lock = threading.Lock()
_loaded = False


def _major(version: str) -> str:
    return str(version).split(".")[0]


def register_plugin(module, name: str | None = None, distribution: str = "", version: str = "") -> PluginRecord:
    """Register a plugin module (or object) by hand, as autoloading would."""
    name = name or getattr(module, "__name__", repr(module))
    record = PluginRecord(name=name, distribution=distribution, version=version)
    _records.append(record)
    try:
        _pm.register(module, name=name)
    except Exception:
        record.status, record.error = "failed", traceback.format_exc()
        return record
    impls = [i for i in _pm.hook.plugrad_register_backends.get_hookimpls() if i.plugin_name == name]
    try:
        specs = [s for impl in impls for s in (impl.function() or ())]
    except Exception:
        record.status, record.error = "failed", traceback.format_exc()
        _pm.unregister(name=name)
        return record
    for spec in specs:
        if _major(spec.interface_version) != _major(KERNEL_INTERFACE_VERSION):
            record.status = "refused"
            record.error = (f"device type '{spec.device_type}' implements kernel interface "
                            f"{spec.interface_version}, but plugrad provides {KERNEL_INTERFACE_VERSION}; "
                            f"the major versions must match")
            continue
        if spec.device_type in _types:
            other = _types[spec.device_type].plugin.name
            record.status = "refused"
            record.error = f"device type '{spec.device_type}' is already provided by plugin '{other}'"
            continue
        _types[spec.device_type] = _DeviceType(spec, record)
        record.device_types.append(spec.device_type)
    return record


def load_plugins() -> None:
    """Discover and register every plugin in the ``plugrad`` entry-point group (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else ""
        dist_version = dist.version if dist is not None else ""
        try:
            module = ep.load()
        except BaseException as exc:  # a plugin must never take the host down, not even with SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            _records.append(PluginRecord(name=ep.name, distribution=dist_name, version=dist_version,
                                         status="failed", error=traceback.format_exc()))
            continue
        register_plugin(module, name=ep.name, distribution=dist_name, version=dist_version)
    bad = [r for r in _records if r.status != "loaded"]
    if bad:
        names = ", ".join(f"'{r.name}' ({r.status})" for r in bad)
        warnings.warn(f"plugrad: some plugins were skipped: {names}; run `python -m plugrad info` for details",
                      RuntimeWarning, stacklevel=3)


def autoload_enabled() -> bool:
    return os.environ.get("PLUGRAD_AUTOLOAD", "1").strip().lower() not in ("0", "false", "no", "off")


class DeviceTypeUnavailable(RuntimeError, AssertionError):
    """A device type that no loaded plugin provides.

    A RuntimeError, like plugrad's other device errors, and an AssertionError too:
    PyTorch's CPU builds raise that for ``"cuda"`` ("Torch not compiled with CUDA
    enabled"), and programs written for PyTorch may catch it."""


def _unknown_type_error(type_name: str) -> RuntimeError:
    known = ", ".join(sorted(_types)) or "none"
    msg = f"unknown device type '{type_name}' (registered device types: {known})"
    if type_name == "cuda":
        msg += "; plugrad has no CUDA device: GPUs are reached through the 'opencl' device type"
    failed = [r for r in _records if r.status != "loaded"]
    for r in failed:
        last = r.error.strip().splitlines()[-1] if r.error.strip() else r.status
        msg += f"; plugin '{r.name}' {r.status}: {last}"
    if failed:
        msg += "; run `python -m plugrad info` for the full report"
    elif not autoload_enabled():
        msg += "; plugin autoloading is off (PLUGRAD_AUTOLOAD=0)"
    return DeviceTypeUnavailable(msg)


def canonical(dev: device) -> device:
    """The device a tensor reports: index filled in for indexed types, dropped for others."""
    entry = _types.get(dev.type)
    if entry is None:
        raise _unknown_type_error(dev.type)
    if not entry.spec.indexed:
        if dev.index not in (None, 0):
            raise RuntimeError(f"device '{dev}' does not exist: device type '{dev.type}' has no index")
        return dev if dev.index is None else device(dev.type)
    return dev if dev.index is not None else device(dev.type, 0)


def backend_for(dev) -> Backend:
    """The backend object of a device, created on first use."""
    b = _backends.get(dev)
    if b is not None:
        return b
    if not isinstance(dev, device):
        dev = device(dev)
        b = _backends.get(dev)
        if b is not None:
            return b
    canon = canonical(dev)
    with _create_lock:  # two threads starting one device must get one backend
        b = _backends.get(canon)
        if b is None:
            b = _create(canon)
        _backends[dev] = b
    return b


def _create(dev: device) -> Backend:
    entry = _types[dev.type]
    spec = entry.spec
    index = dev.index or 0
    if index in entry.errors:
        raise RuntimeError(entry.errors[index])
    try:
        count = spec.device_count()
    except Exception as exc:
        raise RuntimeError(f"device '{dev}' is not usable: counting the '{dev.type}' devices failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    if index >= count:
        raise RuntimeError(f"device '{dev}' does not exist: {count} '{dev.type}' device(s) available "
                           f"(valid indices: {list(range(count)) or 'none'})")
    try:
        backend = spec.factory(index)
    except Exception as exc:
        msg = f"device '{dev}' failed to start: {type(exc).__name__}: {exc}"
        entry.errors[index] = msg
        raise RuntimeError(msg) from exc
    backend.device = dev
    _refuse_newer_kernels(backend, spec.interface_version)
    entry.backends[index] = backend
    _backends[dev] = backend
    return backend


def _refuse_newer_kernels(backend, version: str) -> None:
    """A device of a plugin written for an older minor version of the kernel interface
    lacks the kernels added since: calling one raises UnsupportedOperation naming the op,
    the device and both versions, not whatever the plugin does with an op name it never
    heard of. Only such backends are wrapped, so current plugins pay nothing per call."""
    for method_name, names in kernels_added_after(version).items():
        kernel = getattr(backend, method_name)

        def guarded(op, *args, _kernel=kernel, _names=names, **kwargs):
            if op in _names:
                raise UnsupportedOperation(op, backend.device, None,
                                           f"its plugin implements kernel interface {version}, and '{op}' came in "
                                           f"a later version (plugrad provides {KERNEL_INTERFACE_VERSION})")
            return _kernel(op, *args, **kwargs)
        setattr(backend, method_name, guarded)


def device_types() -> dict:
    """Registered device type names mapped to their :class:`BackendSpec`."""
    return {name: t.spec for name, t in _types.items()}


def plugin_records() -> list:
    """Every plugin seen, loaded or not, as :class:`PluginRecord` objects."""
    return list(_records)


def expectations_for(device_type: str) -> Expectations:
    """Merge what plugins declare about ``device_type`` for the conformance suite."""
    merged = Expectations()
    for result in _pm.hook.plugrad_conformance_expectations(device_type=device_type):
        if result is not None:
            merged.skip.update(result.skip)
            merged.xfail.update(result.xfail)
    return merged


class DeviceModule:
    """``plugrad.<type>``: availability queries for one device type, like ``torch.cuda``.

    Exists for every registered type; ``plugrad.cuda`` (a module of its own, answering
    as a PyTorch build without CUDA) asks its availability through one as well."""

    def __init__(self, type_name: str):
        self._type = type_name

    def is_available(self) -> bool:
        return self.device_count() > 0

    def device_count(self) -> int:
        entry = _types.get(self._type)
        if entry is None:
            return 0
        try:
            return int(entry.spec.device_count())
        except Exception:
            return 0

    def get_device_name(self, index: int = 0) -> str:
        if not 0 <= index < self.device_count():
            raise RuntimeError(f"device '{self._type}:{index}' does not exist "
                               f"({self.device_count()} available)")
        return _types[self._type].spec.device_name(index)

    def synchronize(self, dev=None) -> None:
        backend_for(device(self._type) if dev is None else device(dev)).synchronize()

    def __repr__(self):
        return f"<plugrad device module '{self._type}'>"


def device_module(type_name: str):
    return DeviceModule(type_name) if type_name in _types else None


def info_report() -> str:
    """The text ``python -m plugrad info`` prints."""
    lines = [f"plugrad {__version__}", f"Python {sys.version.split()[0]} ({sys.executable})",
             f"kernel interface {KERNEL_INTERFACE_VERSION}",
             f"plugin autoload: {'on' if autoload_enabled() else 'off (PLUGRAD_AUTOLOAD=0)'}", "", "plugins:"]
    if not _records:
        lines.append("  (none found)")
    for r in _records:
        dist = f"{r.distribution} {r.version}".strip() or "(not from a distribution)"
        lines.append(f"  {r.name}: {dist} [{r.status}]")
        for t in r.device_types:
            spec = _types[t].spec
            try:
                count = spec.device_count()
            except Exception as exc:
                lines.append(f"    device type '{t}': device_count() failed: {exc}")
                continue
            lines.append(f"    device type '{t}' (interface {spec.interface_version}): {count} device(s)"
                         + (f" - {spec.description}" if spec.description else ""))
            for i in range(count):
                name = device(t, i) if spec.indexed else device(t)
                try:
                    dts = ", ".join(d.name for d in spec.dtypes(i))
                    label = spec.device_name(i)
                except Exception as exc:
                    lines.append(f"      {name}: unavailable: {exc}")
                    continue
                lines.append(f"      {name}: {label}")
                lines.append(f"        dtypes: {dts}")
        if r.error:
            lines.extend("    " + ln for ln in r.error.rstrip().splitlines())
    return "\n".join(lines)
