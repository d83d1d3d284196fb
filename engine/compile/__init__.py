"""Compiling: loaded policy objects to durable_rules rulesets."""
