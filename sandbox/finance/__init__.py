"""Stand-in for the municipality's finance system (ERP): REST API + Norwegian web UI (issue 3)."""
