"""The `tariff` command line."""
