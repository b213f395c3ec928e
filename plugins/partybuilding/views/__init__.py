"""PySide6 views of the party-building plugin. They call ``services`` only."""
