/* The owners' usage page of one organization: everything on it comes from
   the API with the signed-in person's token; the actions go through the same
   API (and so the same policy), each submission with its own Idempotency-Key. */
"use strict";

(() => {
  const {t, api, items, money, date, month, el, status, showAlert, problemNode, newKey, sum} = Console;
  const ORG = document.body.dataset.org;
  const BASE = `/v1/organizations/${encodeURIComponent(ORG)}`;
  const me = Console.session();
  const $ = id => document.getElementById(id);
  const levelName = level => t(`level_${level}`);

  function needSignIn() {
    status("");
    const box = $("page-alert");
    box.replaceChildren(el("p", {}, t("need_sign_in"), " ",
      el("a", {href: Console.withLang("/console")}, t("nav_sign_in"))));
    box.hidden = false;
  }

  // -- the organization and its spend ------------------------------------------
  function facts(org, member) {
    const dl = $("org-facts");
    dl.replaceChildren();
    const pairs = [[t("plan"), org.plan], [t("channel"), org.channel], [t("renewal"), date(org.renewal_date)],
                   [t("your_role"), member.role]];
    for (const [name, value] of pairs) dl.append(el("div", {}, el("dt", {}, name), el("dd", {}, value)));
    $("org-name").textContent = org.name;
    $("read-only").hidden = member.role !== "member";
  }

  function spendCards(summary) {
    $("org-spend").textContent = money(summary.spend);
    const limit = summary.limit;
    const meter = $("org-meter");
    if (!limit || limit.status === "not_set") {
      $("org-limit").textContent = t("no_limit");
      $("org-headroom").textContent = "";
      meter.hidden = true;
    } else if (limit.status === "unlimited") {
      $("org-limit").textContent = t("unlimited");
      $("org-headroom").textContent = "";
      meter.hidden = true;
    } else {
      $("org-limit").textContent = money(limit.limit);
      $("org-headroom").textContent = limit.status === "reached" ? t("projection_limit_reached")
        : t("headroom", {amount: money(limit.headroom)});
      meter.hidden = false;
      meter.firstElementChild.style.width = `${Math.min(100, limit.used_pct)}%`;
      meter.classList.toggle("full", limit.status === "reached");
    }
    $("credits-card").hidden = !summary.prepaid;
    $("buy-credits").hidden = !summary.prepaid;
    if (summary.prepaid) $("credit-balance").textContent = money(summary.credit_balance);
  }

  function projection(summary) {
    const p = summary.projection;
    const list = $("projection");
    list.replaceChildren();
    const say = text => list.append(el("li", {}, text));
    if (summary.spend === "0") say(t("projection_none"));
    else say(t("projection_month_end", {amount: money(p.month_end_spend)}));
    if (summary.prepaid && p.credits_run_out_on) {
      say(p.credits_run_out_on === summary.as_of  // the API's "today": nothing left
        ? t("projection_credits_out") : t("projection_credits", {date: date(p.credits_run_out_on)}));
    }
    if (summary.limit && summary.limit.status === "reached") say(t("projection_limit_reached"));
    else if (p.limit_reached_on) say(t("projection_limit", {date: date(p.limit_reached_on)}));
    SpendChart.draw($("chart"), summary);
    const body = $("daily").tBodies[0];
    body.replaceChildren();
    const seen = [];
    for (const day of summary.daily) {
      seen.push(day.spend);
      body.append(el("tr", {}, el("th", {scope: "row"}, date(day.date)), el("td", {class: "num"}, money(day.spend)),
        el("td", {class: "num"}, money(sum(seen)))));
    }
  }

  // -- members ------------------------------------------------------------------------
  function binding(summary, member) {
    const candidates = [["organization", summary.limit], ["seat_type", summary.seat_types && summary.seat_types[member.seat_type]
      && summary.seat_types[member.seat_type].limit], ["individual", member.limit]];
    let best = null;
    for (const [level, s] of candidates) {
      if (s && s.headroom !== null && (!best || Console.toNano(s.headroom) < Console.toNano(best[1].headroom))) best = [level, s];
    }
    return best;
  }

  function members(summary, plan) {
    const body = $("members").tBodies[0];
    body.replaceChildren();
    const included = plan ? plan.usage === "included_allowance" : summary.members.some(m => m.included_used !== "0");
    $("members").classList.toggle("no-included", !included);
    for (const m of summary.members) {
      const blocked = m.limits_reached.length > 0 || m.credits_exhausted;
      const state = el("td", {class: blocked ? "blocked" : ""});
      if (blocked) {
        state.append(el("strong", {}, t("status_blocked")));
        explainBlock(m, plan, state);
      } else {
        const b = binding(summary, m);
        state.append(b ? t("status_binding", {level: levelName(b[0]), amount: money(b[1].headroom)}) : t("status_free"));
        if (m.projection.limit_reached_on) {
          state.append(el("br"), el("small", {}, t("status_reached_on",
            {level: levelName(m.projection.limit_level), date: date(m.projection.limit_reached_on)})));
        }
      }
      const own = !m.limit || m.limit.status === "not_set" ? "—" : m.limit.status === "unlimited" ? t("unlimited") : money(m.limit.limit);
      body.append(el("tr", {"data-member": m.id},
        el("th", {scope: "row"}, m.name || m.id, m.id === me.member ? ` ${t("you")}` : ""),
        el("td", {}, m.role), el("td", {}, m.seat_type), el("td", {class: "num"}, money(m.spend)),
        el("td", {class: "num included"}, money(m.included_used)), el("td", {class: "num"}, own), state));
    }
  }

  /* Why a member is blocked, and how to resume, as the policy says it in the
     reader's language: the API's own pre-check for that member. */
  async function explainBlock(member, plan, cell) {
    const products = plan && plan.seat_types[member.seat_type];
    try {
      const answer = await api("POST", `${BASE}/usage/authorize`, {member: member.id, product: (products && products[0]) || "chat"});
      const decision = answer.decision;
      if (!decision) return;
      const list = el("ul", {class: "why"});
      for (const r of decision.reasons) list.append(el("li", {class: "reason"}, r.message || r.code));
      for (const r of decision.resume) list.append(el("li", {class: "resume"}, r.message || r.action));
      cell.append(list);
    } catch (error) {
      cell.append(el("ul", {class: "why"}, member.limits_reached.map(level => el("li", {}, levelName(level)))));
    }
  }

  function seats(org, summary, plan) {
    const types = Object.keys(org.seats);
    const show = (plan && (plan.usage === "included_allowance" || Object.keys(plan.seat_types).length > 1)) || summary.seat_types;
    $("seats").hidden = !show;
    if (!show) return;
    const body = $("seat-table").tBodies[0];
    body.replaceChildren();
    for (const type of types) {
      const of = summary.members.filter(m => m.seat_type === type);
      const pool = summary.seat_types && summary.seat_types[type];
      body.append(el("tr", {}, el("th", {scope: "row"}, type), el("td", {class: "num"}, Console.number(org.seats[type])),
        el("td", {class: "num"}, Console.number(org.seats_assigned[type] || 0)),
        el("td", {class: "num"}, money(pool ? pool.spend : sum(of.map(m => m.spend)))),
        el("td", {class: "num"}, money(sum(of.map(m => m.included_used))))));
    }
    $("extra-usage").textContent = plan && plan.usage === "included_allowance"
      ? `${t("extra_usage")}: ${org.extra_usage ? t("extra_on") : t("extra_off")}` : "";
  }

  function notifications(list) {
    const ul = $("notifications");
    ul.replaceChildren();
    if (!list.length) ul.append(el("li", {}, t("no_notifications")));
    for (const n of list) {
      // a forecast's notice (D17) has no threshold: when, and how much is left
      const line = n.type === "credits_running_out"
        ? t("credits_line", {date: date(n.date), days: n.days, balance: money(n.credit_balance)})
        : n.type === "credits_topped_up"
        ? t("top_up_line", {amount: money(n.amount), balance: money(n.credit_balance)})
        : n.type === "spend_limit_running_out"
        ? t("limit_forecast_line", {level: levelName(n.level), date: date(n.date), days: n.days,
                                    spend: money(n.spend), limit: money(n.limit)})
        : t("notification_line", {pct: n.threshold_pct, level: levelName(n.level), subject: n.subject ? ` (${n.subject})` : "",
                                  spend: money(n.spend), limit: money(n.limit)});
      ul.append(el("li", {}, el("time", {datetime: n.sent_at}, date(n.sent_at)), " — ", line));
    }
  }

  // -- history: past months' spend, and their invoices ------------------------------------
  async function history(org, summary) {
    const body = $("history").tBodies[0];
    body.replaceChildren();
    const invoices = items(await api("GET", `${BASE}/invoices`).catch(() => []));
    const months = [];
    let start = summary.period_start;
    for (let i = 0; i < 3; i++) {
      const d = new Date(start + "T00:00:00Z");
      const last = new Date(d.getTime() - 86400000).toISOString().slice(0, 10);
      if (last < org.created_at.slice(0, 10).replace(/-\d\d$/, "-01") || last < org.term_start) break;
      months.push(last);
      start = last.slice(0, 8) + "01";
    }
    const past = await Promise.all(months.map(day => api("GET", `${BASE}/usage/summary?as_of=${day}`).catch(() => null)));
    let any = false;
    months.forEach((day, i) => {
      const period = day.slice(0, 8) + "01";
      const invoice = invoices.find(inv => inv.period_start === period);
      if (!past[i] && !invoice) return;
      any = true;
      const cell = el("td", {});
      if (invoice) {
        const button = el("button", {type: "button", class: "link", "aria-controls": "invoice-lines"},
          t("invoice_number", {number: invoice.number || t("draft")}), " · ", money(invoice.total));
        button.addEventListener("click", () => showInvoice(period.slice(0, 7)));
        cell.append(button);
      } else cell.append("—");
      body.append(el("tr", {}, el("th", {scope: "row"}, month(day)),
        el("td", {class: "num"}, past[i] ? money(past[i].spend) : "—"), cell));
    });
    if (!any) body.append(el("tr", {}, el("td", {colspan: 3}, t("no_history"))));
  }

  async function showInvoice(period) {
    const box = $("invoice-lines");
    try {
      const invoice = await api("GET", `${BASE}/invoices/${period}`);
      box.replaceChildren(el("h3", {}, t("invoice_number", {number: invoice.number || t("draft")}), " · ", month(invoice.period_start)),
        el("div", {class: "table-wrap"}, el("table", {},
          el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("col_member")), el("th", {scope: "col"}, t("col_description")),
            el("th", {scope: "col", class: "num"}, t("col_amount")))),
          el("tbody", {}, invoice.lines.map(line => el("tr", {}, el("td", {}, line.member || "—"), el("td", {}, line.description),
            el("td", {class: "num"}, money(line.amount))))),
          el("tfoot", {}, el("tr", {}, el("th", {scope: "row", colspan: 2}, t("total")), el("td", {class: "num"}, money(invoice.total)))))));
    } catch (error) {
      box.replaceChildren(problemNode(error));
    }
  }

  // -- actions --------------------------------------------------------------------------------
  function limitForm(summary) {
    const levels = [];
    if (summary.limit) levels.push("organization");
    if (summary.seat_types) levels.push("seat_type");
    if (summary.members.some(m => m.limit)) levels.push("individual");
    const select = $("limit-level");
    const chosen = select.value;
    select.replaceChildren(...levels.map(level => el("option", {value: level}, levelName(level))));
    if (levels.includes(chosen)) select.value = chosen;
    const subjects = () => {
      const level = select.value;
      const options = level === "individual" ? summary.members.map(m => [m.id, m.name || m.id])
        : level === "seat_type" ? Object.keys(summary.seat_types).map(s => [s, s]) : [];
      $("limit-subject").replaceChildren(...options.map(([v, name]) => el("option", {value: v}, name)));
      $("limit-subject-field").hidden = !options.length;
    };
    select.onchange = subjects;
    subjects();
  }

  /* A form's submission: one Idempotency-Key for it, the answer or the
     policy's refusal shown in the form, then the page read again. */
  function action(form, send) {
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const out = form.querySelector(".status");
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      out.replaceChildren(t("loading"));
      try {
        const done = await send(newKey());
        out.replaceChildren(el("p", {class: "ok"}, done));
        await load();
      } catch (error) {
        out.replaceChildren(problemNode(error));
      } finally {
        button.disabled = false;
      }
    });
  }

  action($("buy-credits"), async key => {
    const answer = await api("POST", `${BASE}/credits/purchases`, {actor: me.member, amount: $("credit-amount").value.trim()}, key);
    return t("done_purchase", {amount: money(answer.credit_balance)});
  });
  action($("set-limit"), async key => {
    const level = $("limit-level").value;
    const body = {actor: me.member, level, limit: $("limit-value").value.trim()};
    if (level !== "organization") body.subject = $("limit-subject").value;
    await api("PUT", `${BASE}/limits`, body, key);
    return t("done_limit");
  });

  // -- the page -----------------------------------------------------------------------------------
  let plans = null;
  async function load() {
    const [org, summary, member] = await Promise.all([api("GET", BASE), api("GET", `${BASE}/usage/summary`),
      api("GET", `${BASE}/members/${encodeURIComponent(me.member)}`)]);
    if (plans === null) {  // seat types' products and the plan's kind, when this person may read the policy
      plans = await api("GET", "/v1/workbench/plans").then(p => p.plans).catch(() => []);
    }
    const plan = plans.find(p => p.id === org.plan) || null;
    facts(org, member);
    spendCards(summary);
    projection(summary);
    members(summary, plan);
    seats(org, summary, plan);
    limitForm(summary);
    const period = summary.period_start.slice(0, 7);
    notifications(items(await api("GET", `${BASE}/notifications?period=${period}`).catch(() => [])));
    await history(org, summary);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    if (!me || me.org !== ORG || !me.member) return needSignIn();
    try {
      await load();
      status("");
      $("page").hidden = false;
    } catch (error) {
      status("");
      showAlert(error);
    }
  });
})();
