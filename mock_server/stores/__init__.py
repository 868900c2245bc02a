"""Where balances and the ledger live: the Store protocol and one module per kind of store."""
