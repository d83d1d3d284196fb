"""Random input against the engine, run in its own process.

A crash inside durable_rules is a segfault: it would kill pytest itself. So
test_engine_fuzz.py runs this script with ``sys.executable`` and looks at the
exit code: 0 the property held, 1 it was falsified (the example is printed),
negative a signal (SIGSEGV is -11).

    python tests/engine/engine_fuzz_worker.py MODE [EXAMPLES]

Modes:
  decide          evaluator.decide(random payload) returns a Decision (whose
                  to_dict is JSON) or raises InputError; nothing else.
  decide-survive  the same payloads, every outcome tallied (printed as one
                  JSON line), exit 0 unless the process dies.
  raw             random facts (always with an `event` field) posted through
                  Runtime.evaluate into every compiled ruleset return rule
                  names of that ruleset or raise EngineError, and the runtime
                  still answers a known fact correctly afterwards.
  raw-survive     the same, but any exception is allowed (tallied): only a
                  dead process or a wrong answer afterwards fails.
  threads         8 threads deciding at once get the answers one thread gets.

Examples are derandomized (the same every run) so the result is stable;
TARIFF_FUZZ_SEED=<int> explores other examples.
"""
from __future__ import annotations

import collections
import json
import os
import sys
import threading
import traceback
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

# Run as a script: its own folder (engine_testkit) is on sys.path already.

from hypothesis import HealthCheck, example, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tariff.engine import Decision, Evaluator, InputError, load_policy_set  # noqa: E402
from tariff.engine import facts as F  # noqa: E402
from tariff.engine import CHANNELS, EVENTS, LEVELS, ROLES, TOKEN_CLASSES, UNLIMITED  # noqa: E402
from tariff.engine.compile.rulesets import compile_rulesets  # noqa: E402
from tariff.engine.evaluate.runtime import RUNTIME, EngineError  # noqa: E402
from engine_testkit import PLAN_DEFAULTS, PLANS, POLICIES, make  # noqa: E402
from engine_testkit import SEAT_TYPES as PLAN_SEAT_TYPES  # noqa: E402

PRODUCTS = ["chat", "claude_code", "cowork"]
SEAT_TYPES = ["enterprise", "chat", "chat_code", "standard", "premium"]
MODELS = ["claude-haiku-4-5", "claude-sonnet-4", "claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-1",
          "claude-haiku-3", "claude-imaginary-9"]
WORDS = [*ROLES, *PRODUCTS, *SEAT_TYPES, *MODELS, *PLANS, *EVENTS, *LEVELS, *CHANNELS, UNLIMITED,
         "", "null", "true", "0", "NaN", "-Infinity"]

# --- values -----------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**100]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
EDGE_AMOUNTS = ["0", "0.000000001", "-0", "-1", "999999999.999999999", "1000000000", "1000000000.5", "1E+400",
                "1e-400", "NaN", "sNaN", "Infinity", " 12 ", "1,5", "\u0661\u0662\u0663",
                "100.00000000000000000000000000001", "0.0000000001", "unlimited", "12.50"]


def mostly(strategy, other=None, one_in=6):
    """``strategy`` most of the time, else something odd (junk by default)."""
    other = value if other is None else other
    # Hypothesis favours the smallest and largest integers (and shrinks towards
    # the smallest), so the odd case is one in the middle.
    return st.integers(1, one_in).flatmap(lambda k: other if k == one_in // 2 + 1 else strategy)


def odd(draw, one_in: int) -> bool:
    """True about once in ``one_in`` draws."""
    return draw(st.integers(1, one_in)) == one_in // 2 + 1


amount_text = mostly(st.decimals(min_value=0, max_value=1000, places=2).map(str),
                     st.one_of(st.sampled_from(EDGE_AMOUNTS), st.decimals(places=9, allow_nan=False).map(str)),
                     one_in=30)
dates = st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 12, 31)).map(date.isoformat)
day_text = mostly(dates, st.sampled_from(["2026-02-30", "2026-4-1", "20260401", "2026-04-01T00:00:00Z", "",
                                          "2024-12-31", "0001-01-01", "9999-12-31"]))
token_count = mostly(st.integers(min_value=0, max_value=5_000_000),
                     st.one_of(st.integers(min_value=-5, max_value=10**25),
                               st.sampled_from([10**12, 10**13, 10**14, 10**15, 10**16, 2**63])), one_in=8)
plausible = st.one_of(amount_text, dates, st.sampled_from(WORDS), st.integers(min_value=-5, max_value=1001))
value = st.deferred(lambda: st.one_of(plausible, junk))


def maybe(strategy):
    return mostly(strategy, one_in=25)


@st.composite
def events(draw, own_seat_types=tuple(SEAT_TYPES)):
    kind = draw(mostly(st.sampled_from(EVENTS), one_in=40))
    event = {"type": kind}
    wanted = {
        "usage_precheck": ["product", "estimate", "model"],
        "usage": ["product", "model", "tokens"],
        "seats_added": ["count", "seat_type", "hipaa"],
        "seat_removal": ["count", "seat_type"],
        "seat_type_change": ["from", "to"],
        "limit_change": ["level", "limit"],
        "credit_purchase": ["amount"],
    }.get(kind if isinstance(kind, str) else "", [])
    gens = {
        "product": maybe(st.sampled_from(PRODUCTS)),
        "model": maybe(st.sampled_from(MODELS)),
        "estimate": maybe(amount_text),
        "amount": maybe(amount_text),
        "limit": maybe(amount_text),
        "count": maybe(st.integers(min_value=-2, max_value=2_000_000)),
        "seat_type": mostly(st.sampled_from(own_seat_types), st.sampled_from(SEAT_TYPES)),
        "from": mostly(st.sampled_from(own_seat_types), st.sampled_from(SEAT_TYPES)),
        "to": mostly(st.sampled_from(own_seat_types), st.sampled_from(SEAT_TYPES)),
        "hipaa": maybe(st.booleans()),
        "level": maybe(st.sampled_from(LEVELS)),
        "tokens": maybe(st.dictionaries(st.sampled_from(TOKEN_CLASSES), token_count, min_size=1, max_size=5)),
    }
    for name in wanted:
        if not odd(draw, 30):  # usually present
            event[name] = draw(gens[name])
    return event


NEEDED = {"spend", "limit", "term_start", "credit_balance", "seats", "role", "seat_type", "included_used"}


def level(draw, extra: dict) -> dict:
    out = {}
    fields = {"spend": amount_text, "limit": mostly(amount_text, st.just("unlimited"), 3),
              "notified_pct": st.sampled_from([0, 50, 80, 100]), **extra}
    for name, strategy in fields.items():
        # what a decision may need is usually there; the rest half the time
        if not odd(draw, 40 if name in NEEDED else 2):
            out[name] = draw(mostly(strategy, one_in=80))
    return out


@st.composite
def payloads(draw):
    if odd(draw, 40):  # sometimes nothing like a request at all
        return draw(junk)
    plan = draw(mostly(st.sampled_from(PLANS), one_in=40))
    base = PLAN_DEFAULTS.get(plan, PLAN_DEFAULTS["enterprise_self_serve"]) if isinstance(plan, str) else {}
    own = PLAN_SEAT_TYPES.get(plan, tuple(SEAT_TYPES)) if isinstance(plan, str) else tuple(SEAT_TYPES)
    as_of = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)))
    term_start = as_of - timedelta(days=draw(st.integers(0, 500)))
    request = {"plan": plan, "as_of": draw(mostly(st.just(as_of.isoformat()), day_text, one_in=40))}
    if "channel" in base or odd(draw, 6):
        request["channel"] = draw(mostly(st.sampled_from(["self_serve", "sales_assisted"]), one_in=40))
    request["organization"] = level(draw, {
        "id": st.text(max_size=8), "term_start": mostly(st.just(term_start.isoformat()), dates, one_in=10),
        "credit_balance": amount_text,
        "seats": mostly(st.dictionaries(st.sampled_from(own), st.integers(0, 10**4), min_size=1, max_size=2),
                        st.dictionaries(st.sampled_from(SEAT_TYPES + ["x"]), st.integers(-1, 10**7), max_size=3)),
        "hipaa_seats": st.integers(0, 100), "extra_usage": st.booleans()})
    if not odd(draw, 15):
        request["member"] = level(draw, {"id": st.text(max_size=8), "role": st.sampled_from(ROLES),
                                         "seat_type": mostly(st.sampled_from(own), st.sampled_from(SEAT_TYPES)),
                                         "included_used": amount_text})
        if not odd(draw, 10):
            request["member"].setdefault("role", draw(st.sampled_from(ROLES)))
    if odd(draw, 4):
        request["seat_type_pool"] = level(draw, {})
    if not odd(draw, 40):
        request["event"] = draw(events(own))
    for _ in range(int(odd(draw, 8)) + int(odd(draw, 30))):  # a stray field somewhere
        where = draw(st.sampled_from([request] + [v for v in request.values() if isinstance(v, dict)]))
        where[draw(st.text(max_size=8))] = draw(value)
    return request


@st.composite
def valid_mix(draw):
    """Ordinary requests, for the threads mode."""
    plan = draw(st.sampled_from(PLANS))
    seat_type = {"legacy_chat_code": "chat_code", "seat_based": "premium"}.get(plan)
    kind = draw(st.sampled_from(["precheck", "usage", "seats", "limit", "period"]))
    spend = str(draw(st.integers(0, 300)))
    if kind == "precheck":
        event = {"type": "usage_precheck", "product": "chat"}
    elif kind == "usage":
        event = {"type": "usage", "product": "chat", "model": "claude-sonnet-4",
                 "tokens": {"input": draw(st.integers(1, 400_000)), "output": draw(st.integers(0, 9999))}}
    elif kind == "seats":
        event = {"type": "seats_added", "count": draw(st.integers(1, 50))}
        if seat_type:
            event["seat_type"] = seat_type
    elif kind == "limit":
        event = {"type": "limit_change", "level": "organization", "limit": spend}
    else:
        event = {"type": "period_start"}
    return make(plan, event, organization={"spend": spend, "limit": "200"},
                member={"role": draw(st.sampled_from(ROLES))})


# --- modes ------------------------------------------------------------------

def _settings(examples):
    return settings(max_examples=examples, deadline=None, database=None, derandomize="TARIFF_FUZZ_SEED" not in os.environ,
                    suppress_health_check=list(HealthCheck), print_blob=False)


def _seeded(test):
    return seed(int(os.environ["TARIFF_FUZZ_SEED"]))(test) if "TARIFF_FUZZ_SEED" in os.environ else test


def _decide_checked(evaluator, payload):
    try:
        decision = evaluator.decide(payload)
    except InputError as exc:
        assert exc.errors and all(isinstance(k, str) for k in exc.errors), exc.errors
        return "input_error"
    assert isinstance(decision, Decision), type(decision)
    json.dumps(decision.to_dict(explain=True))  # JSON-safe, no float or Decimal left
    return decision.outcome


def mode_decide(examples):
    evaluator = Evaluator(load_policy_set(POLICIES))

    @_seeded
    @_settings(examples)
    @given(payloads())
    def decide_returns_a_decision_or_an_input_error(payload):
        _decide_checked(evaluator, payload)

    decide_returns_a_decision_or_an_input_error()


def mode_decide_survive(examples):
    evaluator = Evaluator(load_policy_set(POLICIES))
    outcomes = collections.Counter()
    first = {}

    @_seeded
    @_settings(examples)
    @given(payloads())
    def tally(payload):
        try:
            outcomes[_decide_checked(evaluator, payload)] += 1
        except Exception as exc:  # noqa: BLE001 - tallied, the point is surviving
            key = f"{type(exc).__name__} at {traceback.extract_tb(exc.__traceback__)[-1].name}"
            outcomes[key] += 1
            first.setdefault(key, repr(payload)[:1500])

    tally()
    print(json.dumps({"outcomes": outcomes, "first_example": first}, default=str))


def mode_raw(examples, strict=True):
    policy = load_policy_set(POLICIES)
    Evaluator(policy)  # registers the compiled rulesets in RUNTIME
    rulesets = compile_rulesets(policy)
    names = sorted(rulesets)
    canary_name = next(n for n in names if n.startswith("enterprise_self_serve.usage_precheck."))
    canary = {"event": "usage_precheck", "prepaid": True, "credit_balance": 0, "product_in_seat": True}
    canary_expected = sorted(["usage_allowed", "credits_exhausted"])
    assert sorted(RUNTIME.evaluate(canary_name, canary)) == canary_expected

    field_names = st.one_of(st.sampled_from(sorted(F.FIELDS)), st.text(max_size=10), st.sampled_from(
        ["sid", "id", "$s", "$and", "$or", "$m", "$ex", "", " ", "m", "run", "all", "event.type"]))
    fact_values = st.one_of(
        st.none(), st.booleans(), st.text(max_size=30),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(WORDS),
        st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                   max_size=3), max_leaves=5),
    )

    @_seeded
    @_settings(examples)
    @given(st.sampled_from(names), st.one_of(st.sampled_from(list(EVENTS)), fact_values),
           st.dictionaries(field_names, fact_values, max_size=40))
    # facts durable_rules itself cannot read (errors 204, 202, 302): always tried
    @example(canary_name, "usage_precheck", {"credit_balance": 5e-324})
    @example(canary_name, "usage_precheck", {"credit_balance": float("inf")})
    @example(canary_name, "usage_precheck", {f"f{i}": i for i in range(300)})
    def raw_facts_never_crash(name, event, fields):
        fact = {**fields, "event": event}
        try:
            fired = RUNTIME.evaluate(name, fact)
        except EngineError:
            fired = None
        except Exception as exc:  # noqa: BLE001 - durable_rules' own errors
            if strict:
                raise
            refused[type(exc).__name__ + ": " + str(exc)[:60]] += 1
            fired = None
        if fired is not None:
            assert isinstance(fired, list)
            assert set(fired) <= set(rulesets[name]), (fired, sorted(rulesets[name]))
        assert sorted(RUNTIME.evaluate(canary_name, canary)) == canary_expected

    refused = collections.Counter()
    raw_facts_never_crash()
    print(json.dumps({"refused": refused}))


def mode_threads(examples):
    evaluator = Evaluator(load_policy_set(POLICIES))
    requests = []

    @_settings(examples)
    @given(valid_mix())
    def collect(request):
        requests.append(request)

    collect()
    expected = [evaluator.decide(r).to_dict() for r in requests]
    failures = []

    def worker(offset):
        for i in range(len(requests)):
            j = (i + offset) % len(requests)
            got = evaluator.decide(requests[j]).to_dict()
            if got != expected[j]:
                failures.append((j, got, expected[j]))

    threads = [threading.Thread(target=worker, args=(k * 7,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    print(json.dumps({"threads": 8, "decisions": 8 * len(requests)}))


MODES = {"decide": mode_decide, "decide-survive": mode_decide_survive, "raw": mode_raw,
         "raw-survive": lambda n: mode_raw(n, strict=False), "threads": mode_threads}

if __name__ == "__main__":
    mode = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    try:
        MODES[mode](count)
    except Exception:  # noqa: BLE001 - the property failed: say how, exit 1
        traceback.print_exc()
        sys.exit(1)
    sys.exit(0)
