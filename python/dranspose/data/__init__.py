"""Typed packets of the upstream protocols (protocols.md §2), as the middlewares return them."""
