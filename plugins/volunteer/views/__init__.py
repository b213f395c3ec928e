"""Qt pages of the volunteer plugin (imported lazily by the page factories in the plugin module)."""
