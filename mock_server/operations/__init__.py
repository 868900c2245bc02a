"""The Capillary operations: HTTP in, a rules call, HTTP out."""
