"""A plugin that imports fine but implements a hook the contract does not know."""
from shell import hookimpl
from shell.contracts import PluginInfo


@hookimpl
def plugin_info():
    return PluginInfo(name="badhook", title="坏钩子插件", version="0.1")


@hookimpl
def register_everything():
    return []
