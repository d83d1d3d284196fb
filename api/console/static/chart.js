/* The month's spend as inline SVG: spend to date by day (bars of the running
   total), the summary's projection carried to the period's end (dashed), and
   the organization limit (a line). The figures are computed by the API; only
   the bars' heights are scaled here (pixels, not money). The text beside
   the chart and the table under it say the same for screen readers. */
"use strict";

const SpendChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 720, H = 260, LEFT = 64, RIGHT = 16, TOP = 16, BOTTOM = 32;

  function node(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  // Pixels only: a ratio of two amounts, from their nano-dollars.
  const ratio = (part, whole) => (whole === 0n ? 0 : Number((part * 100000n) / whole) / 100000);

  function draw(container, summary) {
    const {toNano, money, t} = Console;
    const days = summary.projection.days_in_period;
    let running = 0n;
    const totals = summary.daily.map(d => (running += toNano(d.spend)));
    const end = toNano(summary.projection.month_end_spend);
    const limit = summary.limit && summary.limit.headroom !== null ? toNano(summary.limit.limit) : null;
    let top = end > running ? end : running;
    // A limit far above the month's course would flatten it: drawn only when near (the text says the rest).
    const drawLimit = limit !== null && limit <= top * 2n;
    if (drawLimit && limit > top) top = limit;
    if (top === 0n) top = 1000000000n;  // an empty month: a one-dollar scale
    top = top + top / 10n;
    const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    const x = day => LEFT + (plotW * day) / days;
    const y = amount => TOP + plotH * (1 - ratio(amount, top));

    const svg = node("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "chart-title", class: "chart-svg"});
    svg.append(node("title", {id: "chart-title"}, t("chart_caption")));
    for (let i = 0; i <= 4; i++) {  // gridlines with their amounts
      const amount = (top * BigInt(i)) / 4n;
      svg.append(node("line", {x1: LEFT, x2: W - RIGHT, y1: y(amount), y2: y(amount), class: "grid"}));
      svg.append(node("text", {x: LEFT - 6, y: y(amount) + 4, class: "axis", "text-anchor": "end"},
        money(Console.fromNano(amount - amount % 10000000n))));
    }
    const barW = Math.max(2, plotW / days - 3);
    totals.forEach((amount, i) => {
      svg.append(node("rect", {x: x(i) + 1.5, y: y(amount), width: barW, height: Math.max(0, TOP + plotH - y(amount)), class: "bar"}));
    });
    const today = totals.length;
    svg.append(node("line", {x1: x(today), y1: y(running), x2: x(days), y2: y(end), class: "projection"}));
    svg.append(node("line", {x1: x(today), x2: x(today), y1: TOP, y2: TOP + plotH, class: "today"}));
    svg.append(node("text", {x: x(today) + 4, y: TOP + 12, class: "axis"}, t("chart_today")));
    if (drawLimit) {
      svg.append(node("line", {x1: LEFT, x2: W - RIGHT, y1: y(limit), y2: y(limit), class: "limit"}));
      svg.append(node("text", {x: W - RIGHT, y: y(limit) - 6, class: "axis limit-label", "text-anchor": "end"},
        `${t("chart_limit")} ${money(summary.limit.limit)}`));
    }
    for (const day of [1, Math.ceil(days / 2), days]) {
      svg.append(node("text", {x: x(day - 0.5), y: H - 10, class: "axis", "text-anchor": "middle"}, String(day)));
    }
    container.replaceChildren(svg);
  }

  return {draw};
})();
