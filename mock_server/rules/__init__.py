"""The business rules: pure functions, one per operation; they know nothing of HTTP or stores."""
