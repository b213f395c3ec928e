"""Shared widgets for every page: a lazy keyset-paging table model, a debounced search box, a form helper."""
from shell.ui.widgets.form import Form
from shell.ui.widgets.lazy_table import Column, LazyTableModel
from shell.ui.widgets.search_box import SearchBox

__all__ = ["Column", "Form", "LazyTableModel", "SearchBox"]
