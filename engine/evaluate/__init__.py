"""Evaluating: a request to its facts, through durable_rules, to a Decision."""
