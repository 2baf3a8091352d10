"""SLA monitor: alerts the owner about overdue exception cases and failed, late or missed runs."""
