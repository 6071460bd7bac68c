// Horizontal bar charts as inline SVG: a label, a bar and the figure written out on every
// row, so the numbers can be read without judging bar lengths or colours. Bars run across
// so long labels fit a phone held upright.
//
// The markup is written as text and parsed by the HTML parser, which puts <svg> in the SVG
// namespace by itself; the chart's text is escaped on the way in.

const NARROWEST = 280;
const ROW = 30;
const BAR = 20;
const LABEL_WIDTH = 118;
const VALUE_WIDTH = 64;

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The drawing is as wide as its container, so its text keeps the page's size rather than
// growing with the screen; a chart whose container changes width is drawn again.
const drawn = new WeakMap();
const resized = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    const chart = drawn.get(target);
    if (chart && chart.width !== widthOf(target)) barChart(target, chart.content);
  }
});

function widthOf(container) {
  const style = getComputedStyle(container);
  const inner = container.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return Math.max(NARROWEST, Math.floor(inner));
}

/**
 * Draw `bars` ([{label, value, text?, tone?}]) into `container` under the heading `title`.
 * `text` is what is written beside the bar (default: the value); `tone` picks a bar style.
 */
export function barChart(container, content) {
  const { title, bars } = content;
  const width = widthOf(container);
  if (!drawn.has(container)) resized.observe(container);
  drawn.set(container, { width, content });
  const largest = Math.max(1, ...bars.map((bar) => bar.value));
  const track = width - LABEL_WIDTH - VALUE_WIDTH;
  const height = Math.max(1, bars.length) * ROW;
  const summary = bars.map((bar) => `${bar.label}: ${bar.text ?? bar.value}`).join("; ");
  const rows = bars.map((bar, i) => {
    const y = i * ROW;
    const length = bar.value > 0 ? Math.max(2, (bar.value / largest) * track) : 0;
    return `<g class="bar" data-tone="${escape(bar.tone ?? "plain")}">
      <text class="bar-label" x="${LABEL_WIDTH - 8}" y="${y + ROW / 2}" text-anchor="end" dominant-baseline="central">${escape(bar.label)}</text>
      <rect class="bar-track" x="${LABEL_WIDTH}" y="${y + (ROW - BAR) / 2}" width="${track}" height="${BAR}" rx="3"></rect>
      <rect class="bar-fill" x="${LABEL_WIDTH}" y="${y + (ROW - BAR) / 2}" width="${length.toFixed(1)}" height="${BAR}" rx="3"></rect>
      <text class="bar-value" x="${LABEL_WIDTH + length + 6}" y="${y + ROW / 2}" dominant-baseline="central">${escape(bar.text ?? bar.value)}</text>
    </g>`;
  });
  container.innerHTML = `<figure class="chart">
    <figcaption>${escape(title)}</figcaption>
    <svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(`${title}. ${summary}`)}">
      ${rows.join("")}
    </svg>
  </figure>`;
}
