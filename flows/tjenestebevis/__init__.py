"""Issuing service certificates (utstedelse av tjenestebevis): one of Oslo's RPA pilots."""

PROCESS_ID = "tjenestebevis"
