"""Invoice attachment upload (opplasting av underbilag): every supporting document in the drop
folder attached to the right voucher in the finance system exactly once, through the REST API
or the web UI; every file archived with a receipt or quarantined with a reason."""
