"""Historian: schema, engine set-up, batched store-and-forward writes, range reads, rollups."""
