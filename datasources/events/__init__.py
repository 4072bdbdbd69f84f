"""Domain events after commit: the outbox relays, the broker, the consumers, the worker."""
