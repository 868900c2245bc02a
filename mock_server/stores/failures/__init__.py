"""What every store keeps for the failure instruments: faults, their match counters,
the latency and rate-limit settings, and rate-limit windows. One small extension per
backend, sharing the store's connection, so that every worker and replica applies them."""
