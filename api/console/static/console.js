/* The console's shared code: the signed-in session, calls to the JSON API,
   the page's words, and exact formatting of amounts and dates.

   Amounts arrive as exact decimal text ("12.5", "0.000001"). They are added
   as whole nano-dollars in BigInt and formatted from their digits with the
   locale's separators and currency pattern, never through a float. */
"use strict";

const Console = (() => {
  const T = JSON.parse(document.getElementById("strings").textContent);
  const LANG = document.body.dataset.lang || "en";
  const KEY = "tariff.console";

  function t(key, params) {
    let text = T[key] !== undefined ? T[key] : key;
    for (const [name, value] of Object.entries(params || {})) text = text.split(`{${name}}`).join(value);
    return text;
  }

  // -- the session: kept in this tab only ----------------------------------
  function session() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function saveSession(value) { sessionStorage.setItem(KEY, JSON.stringify(value)); }
  function signOut() { sessionStorage.removeItem(KEY); location.href = withLang("/console"); }

  function withLang(path) {
    const url = new URL(path, location.origin);
    url.searchParams.set("lang", LANG);
    return url.pathname + url.search + url.hash;
  }

  // -- the API ------------------------------------------------------------------
  class Problem extends Error {
    constructor(status, body) {
      super((body && (body.message || body.title)) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
  }

  /* One call. `key`: the Idempotency-Key of a submitted form (made once per
     submission, so a retry of it never acts twice). */
  async function api(method, path, body, key) {
    const s = session() || {};
    const headers = {"Accept": "application/json", "Accept-Language": LANG};
    if (s.token) headers["Authorization"] = `Bearer ${s.token}`;
    if (key) headers["Idempotency-Key"] = key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = {message: text}; }
    if (!response.ok) throw new Problem(response.status, data);
    return data;
  }

  // Lists: a bare array, or a page {"items": [...], "next": cursor}.
  const items = x => (Array.isArray(x) ? x : (x && x.items) || []);

  // -- exact amounts ------------------------------------------------------------
  const NANO = 1000000000n;
  function toNano(text) {
    const m = /^(-?)([0-9]*)(?:\.([0-9]*))?$/.exec(String(text).trim());
    if (!m) throw new Error(`not an amount: ${text}`);
    const nano = BigInt(m[2] || "0") * NANO + BigInt(((m[3] || "") + "000000000").slice(0, 9));
    return m[1] ? -nano : nano;
  }
  function fromNano(nano) {
    const sign = nano < 0n ? "-" : "";
    const abs = nano < 0n ? -nano : nano;
    const frac = (abs % NANO).toString().padStart(9, "0").replace(/0+$/, "");
    return sign + (abs / NANO).toString() + (frac ? "." + frac : "");
  }
  const sum = list => fromNano(list.reduce((acc, x) => acc + toNano(x), 0n));

  const numberParts = new Intl.NumberFormat(LANG).formatToParts(12345.5);
  const GROUP = (numberParts.find(p => p.type === "group") || {value: ","}).value;
  const DECIMAL = (numberParts.find(p => p.type === "decimal") || {value: "."}).value;

  function digits(text, minFraction) {
    const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(String(text));
    if (!m) return {negative: false, integer: String(text), fraction: ""};
    let fraction = (m[3] || "").replace(/0+$/, "");
    while (fraction.length < minFraction) fraction += "0";
    const integer = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, GROUP);
    return {negative: m[1] === "-" && /[1-9]/.test(m[2] + (m[3] || "")), integer, fraction};
  }

  /* "1234.5" -> "$1,234.50" (en), "1 234,50 $US" (fr)...: the locale's
     currency pattern with the amount's own digits, all of them. */
  function money(text) {
    if (text === null || text === undefined) return "—";
    const d = digits(text, 2);
    const sample = new Intl.NumberFormat(LANG, {style: "currency", currency: "USD"})
      .formatToParts(d.negative ? -1.5 : 1.5);
    let out = "";
    for (const part of sample) {
      if (part.type === "integer") out += d.integer;
      else if (part.type === "fraction") out += d.fraction;
      else if (part.type === "decimal") out += d.fraction ? DECIMAL : "";
      else out += part.value;
    }
    return out;
  }

  function number(value) { return new Intl.NumberFormat(LANG).format(value); }

  function date(iso) {
    if (!iso) return "—";
    return new Intl.DateTimeFormat(LANG, {dateStyle: "long", timeZone: "UTC"}).format(new Date(iso.slice(0, 10) + "T00:00:00Z"));
  }
  function month(iso) {
    return new Intl.DateTimeFormat(LANG, {year: "numeric", month: "long", timeZone: "UTC"}).format(new Date(iso.slice(0, 10) + "T00:00:00Z"));
  }

  // -- building the page ----------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* What a refusal or an error says: the problem's message and, when the
     policy refused, each reason and way to resume in the reader's language. */
  function problemNode(error) {
    const body = (error && error.body) || {};
    const decision = body.decision;
    const box = el("div", {class: "problem"},
      el("p", {}, el("strong", {}, decision ? t("refused") : t("error")), ": ", body.message || String(error.message || error)));
    if (decision) {
      const list = el("ul", {});
      for (const r of decision.reasons || []) list.append(el("li", {class: "reason"}, r.message || r.code));
      for (const r of decision.resume || []) list.append(el("li", {class: "resume"}, r.message || r.action));
      box.append(list);
    } else if (body.errors) {
      const list = el("ul", {});
      for (const [field, messages] of Object.entries(body.errors)) list.append(el("li", {}, `${field}: ${[].concat(messages).join("; ")}`));
      box.append(list);
    }
    return box;
  }

  function showAlert(error) {
    const box = document.getElementById("page-alert");
    box.replaceChildren(problemNode(error));
    if (error && error.status === 401) {  // no session, or it expired: the way back in
      box.append(el("p", {}, el("a", {href: withLang("/console")}, t("nav_sign_in"))));
    }
    box.hidden = false;
  }
  function status(text) {
    const node = document.getElementById("page-status");
    if (node) { node.textContent = text || ""; node.hidden = !text; }
  }

  // The header: who is signed in, and the way out.
  function header() {
    const s = session();
    const who = document.getElementById("who");
    if (s) {
      who.textContent = s.member ? t("signed_in_as", {member: s.member, org: s.org}) : t("signed_in_staff");
      const out = document.getElementById("sign-out");
      out.hidden = false;
      out.addEventListener("click", signOut);
      if (s.org) document.getElementById("nav-usage").href = withLang(`/console/organizations/${encodeURIComponent(s.org)}`);
    }
  }
  document.addEventListener("DOMContentLoaded", header);

  return {t, LANG, session, saveSession, signOut, withLang, api, Problem, newKey, items, toNano, fromNano, sum, money,
          number, date, month, el, problemNode, showAlert, status};
})();
