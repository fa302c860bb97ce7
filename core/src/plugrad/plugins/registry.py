"""Finding plugins, checking them, and handing out one backend object per device.

Discovery (at ``import plugrad``) reads distribution metadata only: every entry point
of the ``plugrad`` group claims the device type its NAME gives (``cpu =
"plugrad_cpu.plugin"`` claims ``cpu``). No plugin is imported then. A plugin is
imported the first time its device type is asked for (a tensor on it,
``plugrad.<type>.is_available()``, ``device_types()[type]``), or by
:func:`plugin_records` and ``python -m plugrad info``, which load every plugin to
report on it. So a plugin that is broken, slow or hangs at import touches nothing but
its own device type.

Device types are owned (see :mod:`.owners`): two distributions claiming one type is a
conflict, reported when the type is used and by ``plugrad info``, until the user names
the owner (``PLUGRAD_DEVICE_OWNERS`` or :func:`set_device_owner`); neither claimant is
imported meanwhile. A plugin may only register the device types its entry points name.

Plugins are checked (see :mod:`.validate`): a compatible kernel interface version when
a type registers, and a backend implementing the interface when a device starts.

Loading never breaks anything else: a plugin that fails to import or register, or
fails a check, is recorded with the reason and skipped. The reason is raised when its
device is asked for, and ``python -m plugrad info`` shows it. With
``PLUGRAD_AUTOLOAD=0`` no entry point is read at all (then call
:func:`register_plugin` yourself).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable, Iterable

import pluggy

from .._version import __version__
from ..backend import KERNEL_INTERFACE_VERSION, Backend, UnsupportedOperation, kernels_added_after
from ..device import device
from . import hookspec as _hookspec
from .owners import ENV_OWNERS, normalize, owners_from_env
from .validate import backend_problems, interface_problem

__all__ = ["BackendSpec", "Expectations", "PluginRecord", "DeviceModule", "DeviceTypeUnavailable", "register_plugin",
           "load_plugins", "backend_for", "device_types", "plugin_records", "set_device_owner"]

ENTRY_POINT_GROUP = "plugrad"


@dataclass
class BackendSpec:
    """What a plugin tells the core about one device type.

    ``factory(index)`` builds the :class:`~plugrad.backend.Backend` for device
    ``index`` the first time it is used. ``device_count`` and ``device_name`` must
    be cheap enough for ``is_available()``; ``dtypes(index)`` lists the dtypes the
    device computes in (for reports; the backend's own ``dtypes`` is what is
    enforced). Devices with ``indexed=False`` (like ``cpu``) have no index.
    ``unusable()`` lists, one line each, devices the plugin found but does not
    number because they cannot run (name and reason), for ``plugrad info``.
    """

    device_type: str
    interface_version: str
    factory: Callable[[int], Backend]
    device_count: Callable[[], int] = lambda: 1
    device_name: Callable[[int], str] = lambda index: ""
    dtypes: Callable[[int], Iterable] = lambda index: ()
    indexed: bool = True
    description: str = ""
    unusable: Callable[[], Iterable[str]] = lambda: ()


@dataclass
class Expectations:
    """What a device declares to the conformance suite: ops it skips and ops it is
    known to fail, each mapped to a reason a user would accept."""

    skip: dict = field(default_factory=dict)
    xfail: dict = field(default_factory=dict)


@dataclass
class PluginRecord:
    """One plugin, discovered or registered by hand, and how loading went.

    ``status``: ``discovered`` (found by its entry point, not imported yet: its device
    was not asked for), ``loaded``, ``failed`` (import or registration raised),
    ``refused`` (it failed a check: ``error`` says which), ``conflict`` (another
    distribution claims its device type and no owner was chosen) or ``not owner``
    (the user gave its device type to another distribution)."""

    name: str
    distribution: str = ""
    version: str = ""
    status: str = "loaded"
    error: str = ""               # traceback or reason, when not loaded
    device_types: list = field(default_factory=list)
    entry_point: str = ""         # "name = module", for a discovered plugin


class _Claim:
    """One entry point: the device type it names, and the record of its plugin."""

    __slots__ = ("type", "entry_point", "record")

    def __init__(self, type_name: str, entry_point, record: PluginRecord):
        self.type, self.entry_point, self.record = type_name, entry_point, record

    def describe(self) -> str:
        dist = f"{self.record.distribution} {self.record.version}".strip() or "(no distribution)"
        return f"'{dist}' (entry point {self.record.entry_point})"


class _DeviceType:
    __slots__ = ("spec", "plugin", "hook_name", "backends", "errors")

    def __init__(self, spec: BackendSpec, plugin: PluginRecord, hook_name: str):
        self.spec = spec
        self.plugin = plugin
        self.hook_name = hook_name   # the plugin's name in the plugin manager
        self.backends = {}
        self.errors = {}


_pm = pluggy.PluginManager(_hookspec.PROJECT)
_pm.add_hookspecs(_hookspec)
_types: dict = {}          # registered device type name -> _DeviceType
_claims: dict = {}         # device type -> [_Claim], from entry-point metadata
_owners: dict = {}         # device type -> normalized distribution the user chose
_records: list = []        # PluginRecord, in discovery order
_backends: dict = {}       # device -> Backend (the per-op fast path reads this)
_create_lock = threading.Lock()
_pm_lock = threading.RLock()     # plugin-manager registration; held briefly, never across an import
_type_locks: dict = {}     # device type -> RLock held while its plugin is imported
_loaded = False


def _refuse(record: PluginRecord, reason: str) -> None:
    record.status = "refused"
    record.error = f"{record.error}\n{reason}".strip()


def _specs_of(module, record: PluginRecord):
    """Register ``module`` with the plugin manager and call its registration hook:
    ``(hook name, [BackendSpec])``, or ``(None, None)`` with ``record`` marked failed."""
    registered_here = False
    try:
        with _pm_lock:
            hook_name = _pm.get_name(module)
            if hook_name is None:
                hook_name = _pm.register(module, name=record.name)
                registered_here = True
            impls = [i for i in _pm.hook.plugrad_register_backends.get_hookimpls() if i.plugin_name == hook_name]
        specs = [s for impl in impls for s in (impl.function() or ())]
    except Exception:
        record.status, record.error = "failed", traceback.format_exc()
        if registered_here:
            with _pm_lock:
                _pm.unregister(name=hook_name)
        return None, None
    wrong = [s for s in specs if not isinstance(s, BackendSpec)]
    if wrong:
        _refuse(record, f"plugrad_register_backends returned {wrong[0]!r}, not a plugrad.extend.BackendSpec")
    return hook_name, [s for s in specs if isinstance(s, BackendSpec)]


def _add(spec: BackendSpec, record: PluginRecord, hook_name: str) -> None:
    """Register one device type after checking its interface version."""
    problem = interface_problem(spec.interface_version)
    if problem:
        _refuse(record, f"device type '{spec.device_type}' {problem}")
        return
    _types[spec.device_type] = _DeviceType(spec, record, hook_name)
    record.device_types.append(spec.device_type)


def register_plugin(module, name: str | None = None, distribution: str = "", version: str = "") -> PluginRecord:
    """Register a plugin module (or object) by hand, now: every device type it returns
    is registered, unless another plugin provides or claims it (then it is refused)."""
    name = name or getattr(module, "__name__", repr(module))
    record = PluginRecord(name=name, distribution=distribution, version=version)
    _records.append(record)
    hook_name, specs = _specs_of(module, record)
    for spec in specs or ():
        t = spec.device_type
        if t in _types:
            _refuse(record, f"device type '{t}' is already provided by plugin '{_types[t].plugin.name}'")
        elif any(c.record.status not in ("failed", "refused") for c in _claims.get(t, ())):
            claimants = ", ".join(c.describe() for c in _claims[t])
            _refuse(record, f"device type '{t}' is claimed by {claimants}")
        else:
            _add(spec, record, hook_name)
    return record


def _load_claim(claim: _Claim) -> None:
    """Import the plugin of one entry point and register the device type it names."""
    record = claim.record
    try:
        module = claim.entry_point.load()
    except BaseException as exc:  # a plugin must never take the host down, not even with SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        record.status, record.error = "failed", traceback.format_exc()
        return
    record.status = "loaded"
    hook_name, specs = _specs_of(module, record)
    if specs is None:
        return
    named = False
    for spec in specs:
        if spec.device_type == claim.type:
            named = True
            _add(spec, record, hook_name)
        elif not any(c.record.distribution == record.distribution and c.entry_point.value == claim.entry_point.value
                     for c in _claims.get(spec.device_type, ())):
            _refuse(record, f"it registers device type '{spec.device_type}', which its entry point does not name: "
                            f"a plugin provides the device types its entry-point names give (to provide "
                            f"'{spec.device_type}', add the entry point "
                            f"'{spec.device_type} = {claim.entry_point.value}')")
    if not named:
        _refuse(record, f"its entry point names device type '{claim.type}', but plugrad_register_backends "
                        f"returned no BackendSpec for it")


def _settle(type_name: str) -> None:
    """Mark which claims of a device type may load: the user's choice, else the only one."""
    claims = _claims[type_name]
    owner = _owners.get(type_name)
    for claim in claims:
        record = claim.record
        if record.status not in ("discovered", "conflict", "not owner"):
            continue                                 # already imported: its fate is decided
        record.error = ""
        if owner is not None and normalize(record.distribution) != owner:
            record.status = "not owner"
            record.error = f"device type '{type_name}' was given to distribution '{owner}' (owner setting)"
        elif owner is None and len(claims) > 1:
            record.status = "conflict"
            record.error = _conflict_message(type_name)
        else:
            record.status = "discovered"


def _conflict_message(type_name: str) -> str:
    claims = _claims[type_name]
    names = " and ".join(c.describe() for c in claims)
    example = normalize(claims[0].record.distribution) or "<distribution>"
    return (f"device type '{type_name}' is claimed by {len(claims)} distributions: {names}; plugrad does not "
            f"choose one by itself. Say which one provides '{type_name}' with {ENV_OWNERS}={type_name}={example} "
            f"(or plugrad.plugins.set_device_owner('{type_name}', '{example}')), or uninstall the other")


def load_plugins() -> None:
    """Discover the plugins (once): read the ``plugrad`` entry points, each of which
    claims the device type its name gives. Imports no plugin (see the module doc)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    try:
        _owners.update({t: o for t, o in owners_from_env().items() if t not in _owners})
    except ValueError as exc:
        warnings.warn(f"plugrad: {exc}; no owner is set from it", RuntimeWarning, stacklevel=3)
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found.append((ep.name, dist.metadata["Name"] if dist is not None else "", dist.version if dist else "", ep))
    for name, dist_name, dist_version, ep in sorted(found, key=lambda f: f[:2]):
        record = PluginRecord(name=name, distribution=dist_name, version=dist_version, status="discovered",
                              entry_point=f"{name} = {ep.value}")
        _records.append(record)
        _claims.setdefault(name, []).append(_Claim(name, ep, record))
        _type_locks.setdefault(name, threading.RLock())
    for name in _claims:
        _settle(name)


def _entry(type_name: str):
    """The registered device type ``type_name``, importing its plugin if it was not yet;
    None when no plugin provides it (see :func:`_unavailable_error` for why)."""
    entry = _types.get(type_name)
    if entry is not None or type_name not in _claims:
        return entry
    with _type_locks[type_name]:
        entry = _types.get(type_name)
        if entry is None:
            claim = next((c for c in _claims[type_name] if c.record.status == "discovered"), None)
            if claim is not None:
                claim.record.status = "loading"
                _load_claim(claim)
                if claim.record.status == "loading":   # an exception escaped _load_claim: KeyboardInterrupt
                    claim.record.status = "discovered"
            entry = _types.get(type_name)
    return entry


def set_device_owner(device_type: str, distribution: str) -> None:
    """Say which installed distribution provides ``device_type`` (its distribution name,
    as ``pip`` shows it), resolving a conflict between plugins that claim the same type.
    The same as ``PLUGRAD_DEVICE_OWNERS=device_type=distribution`` set before importing
    plugrad. Call it before the device type is first used: a type already started from
    another distribution raises RuntimeError."""
    wanted = normalize(distribution)
    lock = _type_locks.setdefault(device_type, threading.RLock())
    with lock:
        entry = _types.get(device_type)
        if entry is not None:
            if normalize(entry.plugin.distribution) == wanted:
                return
            raise RuntimeError(f"device type '{device_type}' is already in use, provided by plugin "
                               f"'{entry.plugin.name}' ({entry.plugin.distribution or 'not from a distribution'}); "
                               f"choose its owner before it is first used (or set {ENV_OWNERS} before "
                               f"importing plugrad)")
        _owners[device_type] = wanted
        if device_type in _claims:
            _settle(device_type)


def load_all(timeout: float | None = None) -> None:
    """Import every discovered plugin that may load (for reports).

    With ``timeout`` (seconds, for all of them together) each import runs in a daemon
    thread, and one still running at the deadline is left to run: its record stays
    ``loading``, so that a plugin that hangs at import cannot hang a report."""
    if timeout is None:
        for type_name in list(_claims):
            _entry(type_name)
        return
    threads = [threading.Thread(target=_entry, args=(t,), daemon=True, name=f"plugrad-load-{t}")
               for t in list(_claims)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def autoload_enabled() -> bool:
    return os.environ.get("PLUGRAD_AUTOLOAD", "1").strip().lower() not in ("0", "false", "no", "off")


class DeviceTypeUnavailable(RuntimeError, AssertionError):
    """A device type that no loaded plugin provides.

    A RuntimeError, like plugrad's other device errors, and an AssertionError too:
    PyTorch's CPU builds raise that for ``"cuda"`` ("Torch not compiled with CUDA
    enabled"), and programs written for PyTorch may catch it."""


def _unavailable_error(type_name: str) -> RuntimeError:
    """Why no plugin provides ``type_name``: unknown, claimed twice, given to an owner
    that does not provide it, or its plugin failed (with the reason)."""
    claims = _claims.get(type_name, ())
    if not claims:
        return _unknown_type_error(type_name)
    statuses = {c.record.status for c in claims}
    if "conflict" in statuses:
        return DeviceTypeUnavailable(_conflict_message(type_name))
    if statuses == {"not owner"}:
        providers = " and ".join(c.describe() for c in claims)
        return DeviceTypeUnavailable(f"device type '{type_name}' was given to distribution "
                                     f"'{_owners[type_name]}' ({ENV_OWNERS} or set_device_owner), but it is "
                                     f"provided by {providers}")
    claim = next(c for c in claims if c.record.status != "not owner")
    record = claim.record
    if record.status == "loading":
        return DeviceTypeUnavailable(f"device type '{type_name}' is unavailable: its plugin {claim.describe()} is "
                                     f"still being imported (did the plugin ask for its own device at import?)")
    return DeviceTypeUnavailable(f"device type '{type_name}' is unavailable: plugin '{record.name}' from "
                                 f"{claim.describe()} {record.status}: {_reason(record)}; run `python -m plugrad info` "
                                 f"for the full report")


def _reason(record: PluginRecord) -> str:
    """A record's error in one line: a traceback's last line, or every reason it was refused."""
    lines = record.error.strip().splitlines()
    if not lines:
        return record.status
    return lines[-1] if record.status == "failed" else "; ".join(lines)


def _unknown_type_error(type_name: str) -> RuntimeError:
    known = ", ".join(sorted(device_types())) or "none"
    msg = f"unknown device type '{type_name}' (registered device types: {known})"
    if type_name == "cuda":
        msg += "; plugrad has no CUDA device: GPUs are reached through the 'opencl' device type"
    failed = [r for r in _records if r.status in ("failed", "refused")]
    for r in failed:
        msg += f"; plugin '{r.name}' {r.status}: {_reason(r)}"
    if failed:
        msg += "; run `python -m plugrad info` for the full report"
    elif not autoload_enabled():
        msg += "; plugin autoloading is off (PLUGRAD_AUTOLOAD=0)"
    return DeviceTypeUnavailable(msg)


def canonical(dev: device) -> device:
    """The device a tensor reports: index filled in for indexed types, dropped for others."""
    entry = _entry(dev.type)
    if entry is None:
        raise _unavailable_error(dev.type)
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
    problems = backend_problems(backend)
    if problems:
        msg = (f"device '{dev}' was refused: the backend of plugin '{entry.plugin.name}' does not implement "
               f"kernel interface {spec.interface_version}: " + "; ".join(problems))
        entry.errors[index] = msg
        _refuse(entry.plugin, msg)
        raise RuntimeError(msg)
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


class _DeviceTypes(Mapping):
    """Device type names mapped to their :class:`BackendSpec`. The names come from what
    is registered and what entry points claim; reading a value imports its plugin (a
    name whose plugin then fails reads as missing: KeyError)."""

    def __init__(self, names: list):
        self._names = names

    def __getitem__(self, name):
        entry = _entry(name) if name in self._names else None
        if entry is None:
            raise KeyError(name)
        return entry.spec

    def __contains__(self, name):
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    def __repr__(self):
        return f"<plugrad device types {self._names}>"


def device_types() -> Mapping:
    """Registered and loadable device type names mapped to their :class:`BackendSpec`.

    Membership and iteration import nothing; reading a spec imports its plugin."""
    loadable = [t for t, claims in _claims.items() if any(c.record.status in ("discovered", "loading")
                                                          for c in claims)]
    return _DeviceTypes(list(dict.fromkeys([*_types, *loadable])))


def plugin_records() -> list:
    """Every plugin seen, as :class:`PluginRecord` objects (imports every discovered
    plugin that may load, so that each status is final)."""
    load_all()
    return list(_records)


def expectations_for(device_type: str) -> Expectations:
    """What the plugin providing ``device_type`` declares about it for the conformance
    suite (only that plugin is asked: no other may relax the checks of a device)."""
    merged = Expectations()
    entry = _entry(device_type)
    if entry is None:
        return merged
    for impl in _pm.hook.plugrad_conformance_expectations.get_hookimpls():
        if impl.plugin_name != entry.hook_name:
            continue
        result = impl.function(*[{"device_type": device_type}[name] for name in impl.argnames])
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
        entry = _entry(self._type)
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
        return _entry(self._type).spec.device_name(index)

    def synchronize(self, dev=None) -> None:
        backend_for(device(self._type) if dev is None else device(dev)).synchronize()

    def __repr__(self):
        return f"<plugrad device module '{self._type}'>"


def device_module(type_name: str):
    """``plugrad.<type_name>`` for a registered or claimed device type (imports nothing)."""
    return DeviceModule(type_name) if type_name in _types or type_name in _claims else None


def info_report(import_timeout: float = 30.0) -> str:
    """The text ``python -m plugrad info`` prints. Imports every plugin that may load,
    waiting at most ``import_timeout`` seconds for them; one still importing then is
    reported as such (a plugin that hangs at import must not hang the report)."""
    load_all(timeout=import_timeout)
    owners = ", ".join(f"{t}={o}" for t, o in sorted(_owners.items())) or "none chosen"
    lines = [f"plugrad {__version__}", f"Python {sys.version.split()[0]} ({sys.executable})",
             f"kernel interface {KERNEL_INTERFACE_VERSION}",
             f"plugin autoload: {'on' if autoload_enabled() else 'off (PLUGRAD_AUTOLOAD=0)'}",
             f"device owners ({ENV_OWNERS}): {owners}", "", "plugins:"]
    if not _records:
        lines.append("  (none found)")
    for r in _records:
        dist = f"{r.distribution} {r.version}".strip() or "(not from a distribution)"
        lines.append(f"  {r.name}: {dist} [{r.status}]")
        for t in r.device_types:
            lines.extend(_device_type_lines(t))
        if r.status == "loading":
            lines.append(f"    still importing after {import_timeout:g} s: the plugin hangs or is very slow at "
                         f"import (its device type waits for it; the other devices do not)")
        if r.error:
            lines.extend("    " + ln for ln in r.error.rstrip().splitlines())
    return "\n".join(lines)


def _device_type_lines(type_name: str) -> list:
    """Lines of ``info_report`` for one registered device type: its devices, their dtypes,
    and the devices its plugin found unusable."""
    spec = _types[type_name].spec
    try:
        count = spec.device_count()
    except Exception as exc:
        return [f"    device type '{type_name}': device_count() failed: {exc}"]
    lines = [f"    device type '{type_name}' (interface {spec.interface_version}): {count} device(s)"
             + (f" - {spec.description}" if spec.description else "")]
    for i in range(count):
        name = device(type_name, i) if spec.indexed else device(type_name)
        try:
            dts = ", ".join(d.name for d in spec.dtypes(i))
            label = spec.device_name(i)
        except Exception as exc:
            lines.append(f"      {name}: unavailable: {exc}")
            continue
        lines.append(f"      {name}: {label}")
        lines.append(f"        dtypes: {dts}")
    try:
        unusable = list(spec.unusable())
    except Exception as exc:
        unusable = [f"(listing unusable devices failed: {type(exc).__name__}: {exc})"]
    lines.extend(f"      unusable: {line}" for line in unusable)
    return lines
