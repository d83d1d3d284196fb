"""Loading: policy YAML (with the place of every value) to validated policy objects."""
