"""Retention: outputs, archived inputs and case files deleted, personal data cleared, past each process's retention."""
