"""Redis as a cache: entity cache under the loaders, response cache, persisted queries.

Every layer names its keys through `CacheKeys` and invalidates through `Invalidator`, so
the scheme is in one place (see keys.py).
"""
