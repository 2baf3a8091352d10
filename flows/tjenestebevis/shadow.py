"""Shadow mode (docs/shadow.md): per request (key bestilling_id) the letter the run would issue, valued
by the total service in months, or the hand-over to HR with its category; compared with HR's own list."""
ARCHIVE = "archive"  # the compared system: the letters sent (run.py records the outcomes through ctx.effects)
