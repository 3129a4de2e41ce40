"""`parse(StreamData)` per upstream protocol: the typed packets of dranspose.data."""
