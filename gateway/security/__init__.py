"""Authentication: who is asking (JWT bearer tokens, API keys, or nobody)."""
