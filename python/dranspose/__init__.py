"""The modules a payload written for the original dranspose imports, and the payload host that runs it."""
