"""Benefits report (gevinstrapport): what automation gives back, per process and month."""
