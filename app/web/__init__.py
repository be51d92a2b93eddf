"""Request-side helpers: rendering pages or fragments, permissions, errors, formatting."""
