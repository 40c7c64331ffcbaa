"""Probity's application core: configuration, the app factory, and cross-cutting concerns."""
