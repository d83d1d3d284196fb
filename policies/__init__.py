# Not code: this marker makes the shipped policy set the package data
# `tariff.policies`, so an installed tariff finds it (tariff/resources.py).
# The policy loader reads only the .yaml files here.
