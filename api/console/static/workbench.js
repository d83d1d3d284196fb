/* The billing-staff workbench: the served set's plans, rules, rate card,
   findings and fixtures (/v1/workbench/...), a playground over
   /v1/workbench/explain, and a what-if replay of a changed file. */
"use strict";

(() => {
  const {t, api, el, money, date, status, showAlert, problemNode} = Console;
  const $ = id => document.getElementById(id);
  const rulesLink = cite => el("a", {href: Console.withLang(`/console/billing-rules#${cite}`)}, cite);
  const place = x => `${x.file}:${x.line}${x.column ? ":" + x.column : ""}`;

  function plans(data) {
    const box = $("plans");
    box.replaceChildren();
    $("f-plan").replaceChildren(...data.plans.map(p => el("option", {value: p.id}, p.id)));
    for (const plan of data.plans) {
      const seats = Object.entries(plan.seat_types).map(([seat, products]) => t("seat_products", {seat, products: products.join(", ")}));
      box.append(el("details", {class: "plan"},
        el("summary", {}, el("strong", {}, plan.title), ` (${plan.id}) — ${t("rule_count", {n: plan.rules.length})}`),
        el("p", {}, `${plan.channels.join(", ")} · ${plan.usage} · ${seats.join(" · ")} · ${plan.file}`),
        el("div", {class: "table-wrap"}, el("table", {},
          el("thead", {}, el("tr", {}, [t("col_rule"), t("col_events"), t("col_cites"), t("col_where")].map(h => el("th", {scope: "col"}, h)))),
          el("tbody", {}, plan.rules.map(rule => el("tr", {},
            el("th", {scope: "row"}, el("code", {}, rule.id)), el("td", {}, rule.on.join(", ")),
            el("td", {}, rule.cites.flatMap((c, i) => (i ? [", ", rulesLink(c)] : [rulesLink(c)]))),
            el("td", {}, el("code", {}, place(rule))))))))));
    }
  }

  function rates(data) {
    const classes = data.token_classes;
    const row = (m, h, i) => {
      const where = el("td", {}, h.file ? el("code", {}, `${h.file}:${h.line}`) : "—");
      if (h.long_context) {
        const n = Console.number(Number(h.long_context.above_prompt_tokens));
        const rates = classes.map(c => `${c} ${money(h.long_context[c])}`).join(", ");
        where.append(el("div", {class: "hint"}, t("long_context", {n, rates})));
      }
      return el("tr", {},
        i === 0 ? el("th", {scope: "row", rowspan: m.history.length}, el("code", {}, m.model)) : null,
        el("td", {}, date(h.effective_from)),
        h.retired ? el("td", {colspan: classes.length}, t("retired"))
          : classes.map(c => el("td", {class: "num"}, money(h.per_million[c]))),
        where);
    };
    const head = el("tr", {}, el("th", {scope: "col"}, t("col_model")), el("th", {scope: "col"}, t("col_from")),
      classes.map(c => el("th", {scope: "col", class: "num"}, c)), el("th", {scope: "col"}, t("col_where")));
    const body = el("tbody", {}, data.models.flatMap(m => m.history.map((h, i) => row(m, h, i))));
    $("rates").replaceChildren(el("div", {class: "table-wrap"}, el("table", {}, el("thead", {}, head), body)));
  }

  function findings(data) {
    const list = $("findings");
    list.replaceChildren();
    if (!data.findings.length) list.append(el("li", {}, t("no_findings")));
    for (const f of data.findings) list.append(el("li", {class: f.severity}, el("code", {}, `${f.file}:${f.line}:${f.column}`), ` ${f.severity} ${f.code}: ${f.message}`));
  }

  // -- fixtures -------------------------------------------------------------------------
  $("run-fixtures").addEventListener("click", async () => {
    const box = $("fixtures");
    box.replaceChildren(t("loading"));
    try {
      const r = await api("POST", "/v1/workbench/fixtures");
      box.replaceChildren(el("p", {}, t("fixtures_result", {passed: Console.number(r.passed), failed: Console.number(r.failed.length)})),
        el("ul", {class: "findings"}, r.failed.map(f => el("li", {class: "error"}, el("code", {}, `${f.file}:${f.line}`), ` ${f.id}: ${f.problems.join("; ")}`))));
    } catch (error) {
      box.replaceChildren(problemNode(error));
    }
  });

  // -- the playground ------------------------------------------------------------------------
  function written() {
    const event = {type: $("f-event").value};
    if (event.type.startsWith("usage")) event.product = $("f-product").value;
    if (event.type === "usage") {
      event.model = $("f-model").value;
      event.tokens = {input: Number($("f-input").value) || 0, output: Number($("f-output").value) || 0};
    }
    if (event.type === "credit_purchase") event.amount = "100";
    if (event.type === "limit_change") Object.assign(event, {level: "organization", limit: "500"});
    return {plan: $("f-plan").value, as_of: new Date().toISOString().slice(0, 10),
            organization: {term_start: `${new Date().getUTCFullYear()}-01-01`, spend: $("f-spend").value, limit: $("f-limit").value,
                           credit_balance: $("f-credits").value},
            member: {id: "m-1", role: $("f-role").value, spend: "0"}, event};
  }
  $("request-form").addEventListener("submit", event => {
    event.preventDefault();
    $("request-json").value = JSON.stringify(written(), null, 2);
    $("request-json").focus();
  });

  $("playground").addEventListener("submit", async event => {
    event.preventDefault();
    const box = $("decision");
    let request;
    try { request = JSON.parse($("request-json").value); } catch (error) {
      box.replaceChildren(problemNode({body: {message: `JSON: ${error.message}`}}));
      return;
    }
    box.replaceChildren(t("loading"));
    try {
      const {decision, explanation} = await api("POST", "/v1/workbench/explain", request);
      box.replaceChildren(...[
        el("p", {class: `outcome ${decision.outcome}`}, el("strong", {}, `${t("outcome")}: `), decision.outcome),
        decision.reasons.length ? el("div", {}, el("h3", {}, t("reasons")), el("ul", {}, decision.reasons.map(r =>
          el("li", {}, r.message, " ", el("code", {}, r.code))))) : null,
        decision.resume.length ? el("div", {}, el("h3", {}, t("ways_to_resume")), el("ul", {}, decision.resume.map(r =>
          el("li", {}, r.message))) ) : null,
        decision.charges.lines.length ? el("p", {}, el("strong", {}, `${t("charges")}: `), money(decision.charges.total)) : null,
        el("h3", {}, t("explanation")), el("pre", {class: "explanation", lang: "en"}, explanation.join("\n")),
        el("h3", {}, t("trace")), el("div", {class: "table-wrap"}, el("table", {class: "trace"},
          el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("col_rule")), el("th", {scope: "col"}, t("col_cites")),
            el("th", {scope: "col"}, t("col_file")))),
          el("tbody", {}, decision.trace.map(step => el("tr", {}, el("th", {scope: "row"}, el("code", {}, step.rule)),
            el("td", {}, (step.cites || []).flatMap((c, i) => (i ? [", ", rulesLink(c)] : [rulesLink(c)]))),
            el("td", {}, el("code", {}, place(step))))))))].filter(Boolean));
    } catch (error) {
      box.replaceChildren(problemNode(error));
    }
  });

  // -- what if ------------------------------------------------------------------------------
  $("wi-load").addEventListener("click", async () => {
    try {
      const file = await api("GET", `/v1/workbench/file?path=${encodeURIComponent($("wi-path").value.trim())}`);
      $("wi-text").value = file.text;
    } catch (error) {
      $("what-if-result").replaceChildren(problemNode(error));
    }
  });

  $("what-if").addEventListener("submit", async event => {
    event.preventDefault();
    const box = $("what-if-result");
    box.replaceChildren(t("loading"));
    const upload = $("wi-events").files[0];
    const body = {files: {[$("wi-path").value.trim()]: $("wi-text").value}, ledger: $("wi-ledger").checked};
    if (upload) {
      body.events = await upload.text();
      body.events_format = /\.ya?ml$/i.test(upload.name) ? "yaml" : "jsonl";
    }
    try {
      const answer = await api("POST", "/v1/workbench/what-if", body);
      if (!answer.valid) {
        box.replaceChildren(el("p", {}, t("invalid_set")), el("ul", {class: "findings"}, answer.findings.map(f =>
          el("li", {class: f.severity}, el("code", {}, `${f.file}:${f.line}:${f.column}`), ` ${f.code}: ${f.message}`))));
        return;
      }
      const r = answer.report;
      const signed = x => (x.startsWith("-") ? money(x) : x === "0" ? money(x) : `+${money(x)}`);
      box.replaceChildren(el("p", {}, t("replayed", {events: Console.number(r.events)})),
        el("div", {class: "table-wrap"}, el("table", {id: "what-if-table"},
          el("thead", {}, el("tr", {}, [t("col_org"), t("col_plan"), t("col_count"), t("col_old"), t("col_new"), t("col_change")]
            .map((h, i) => el("th", {scope: "col", class: i >= 2 ? "num" : ""}, h)))),
          el("tbody", {}, r.groups.map(g => el("tr", {class: g.change === "0" ? "" : "changed"},
            el("th", {scope: "row"}, g.organization), el("td", {}, g.plan), el("td", {class: "num"}, Console.number(g.events)),
            el("td", {class: "num"}, money(g.old_charges)), el("td", {class: "num"}, money(g.new_charges)),
            el("td", {class: "num"}, signed(g.change))))),
          el("tfoot", {}, el("tr", {}, el("th", {scope: "row", colspan: 2}, t("total")),
            el("td", {class: "num"}, Console.number(r.events)), el("td", {class: "num"}, money(r.totals.old_charges)),
            el("td", {class: "num"}, money(r.totals.new_charges)), el("td", {class: "num"}, signed(r.totals.change)))))));
    } catch (error) {
      box.replaceChildren(problemNode(error));
    }
  });

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const [p, r, f] = await Promise.all([api("GET", "/v1/workbench/plans"), api("GET", "/v1/workbench/rate-card"),
        api("GET", "/v1/workbench/findings")]);
      plans(p);
      rates(r);
      findings(f);
      const files = await api("GET", "/v1/policies");
      $("policy-files").replaceChildren(...files.files.map(x => el("option", {value: x.path})));
      $("request-json").value = JSON.stringify(written(), null, 2);
      status("");
    } catch (error) {
      status("");
      showAlert(error);
    }
  });
})();
