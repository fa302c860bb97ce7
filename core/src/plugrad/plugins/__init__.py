"""Plugin discovery and the device registry (see ``hookspec`` for the plugin API)."""

from .registry import (BackendSpec, DeviceModule, Expectations, PluginRecord, backend_for, device_types,
                       load_plugins, plugin_records, register_plugin, set_device_owner)

__all__ = ["BackendSpec", "DeviceModule", "Expectations", "PluginRecord", "backend_for", "device_types",
           "load_plugins", "plugin_records", "register_plugin", "set_device_owner"]
