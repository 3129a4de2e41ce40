"""Stand-in for the few parts of Sardana a hook macro touches (Sardana is not installable here)."""
