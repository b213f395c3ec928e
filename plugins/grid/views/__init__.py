"""PySide6 pages and dialogs of the grid plugin; they call plugins.grid.services only."""
