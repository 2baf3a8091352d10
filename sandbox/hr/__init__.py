"""The HR system's exports (no server: HR hands over Excel files): demo data for tjenestebevis."""
