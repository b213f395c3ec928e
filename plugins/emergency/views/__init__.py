"""Qt pages of the emergency plugin (imported lazily by the page factories)."""
