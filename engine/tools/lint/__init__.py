"""Static checks beyond the schema (see `tariff validate`).

A policy set that loads is well-formed; this module asks whether it makes
sense. Every finding carries its place (``file:line:col``); errors fail
validation, warnings do not.

Conditions are checked by reasoning over their values, not by running them.
Each rule's condition tree (parsed once, at load: load/conditions.py) is read
as a disjunction of conjunctions of tests; a
conjunction is analysed against what a decision of one plan, event type and
channel can contain: which facts are provided (durable_rules never matches a
test on an absent field, even `ne`), and which values they can take (the
plan's channels and seat types, its prepaid channels, ...). That gives:

- a rule that can never fire (its tests contradict each other, or test a fact
  its events never carry, or a value its plans never have),
- a rule whose effects never stand (it charges or notifies, but no rule that
  allows can fire with it, or a refusal always fires with it),
- pairs of rules that conflict (one allows, another blocks or refuses
  whenever the first applies), that shadow one another (same effects under a
  weaker condition), or that do the same thing twice (two charges, two state
  changes, two notifications, two transitions in one decision).

The rest checks the rate card and seat prices (order, retirements, long
context tiers, the first priced day), the limit hierarchy (levels a plan
lists but never enforces, reasons about levels a plan lacks) and definitions
nothing uses. Every check is pinned by a golden case in fixtures/bad_policies/.
"""
from .checks import lint
from .codes import CODES
from .logic import ALWAYS, dnf, implies
from .scopes import plan_scope

__all__ = ["ALWAYS", "CODES", "dnf", "implies", "lint", "plan_scope"]
