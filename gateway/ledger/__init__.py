"""The receipt ledger: every step of a document's journey as an append-only, hash-chained event."""
