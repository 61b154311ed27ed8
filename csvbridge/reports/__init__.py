"""Reports: the ledger and tie-out, report.json, the rejects and duplicates files, and the
terminal summary."""
