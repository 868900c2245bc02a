"""The mock as a test instrument: the request journal, sessions, faults, latency and rate
limits, each an ASGI middleware or a store extension of its own."""
