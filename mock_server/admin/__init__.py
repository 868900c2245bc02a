"""The mock's own admin API (openapi/admin.yaml), one module per resource."""
