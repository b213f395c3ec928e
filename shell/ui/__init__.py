"""The PySide6 desktop shell. Views call services only; nothing here is imported by services."""
