// SVG text by hand: a few helpers, the palette and the frame every chart shares. No library: the
// charts are two simple kinds, and hand-written SVG has no dependency to ship inside the executable,
// renders the same in a browser, on GitHub and in rsvg-convert, and can be checked as XML in a test.

export type Attrs = Readonly<Record<string, string | number | null | undefined>>;

/** XML-escapes text and attribute values (the five predefined entities, XML 1.0 section 4.6). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** One element; null and undefined attributes are left out; no children makes it self-closing. */
export function tag(name: string, attrs: Attrs, ...children: string[]): string {
  let a = "";
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) a += ` ${k}="${esc(String(v))}"`;
  return children.length === 0 ? `<${name}${a}/>` : `<${name}${a}>${children.join("")}</${name}>`;
}

/** A text element whose content is escaped. */
export function text(attrs: Attrs, content: string): string {
  return tag("text", attrs, esc(content));
}

/** Pixel coordinates to 0.1 px: finer is invisible and only makes the file larger. */
export const px = (x: number): number => Math.round(x * 10) / 10;

/**
 * Okabe and Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), dark grey first
 * for a reference series; yellow is left out, too faint on white.
 */
export const PALETTE = ["#4d4d4d", "#E69F00", "#009E73", "#0072B2", "#CC79A7", "#D55E00", "#56B4E9"] as const;

/** Dash patterns that tell series apart without colour (printed in grey, or colour-blind readers). */
export const DASHES = [null, "7 3", "2 2", "9 3 2 3", "4 4", "12 4", "1 3"] as const;

export const FONT = "DejaVu Sans, Verdana, Segoe UI, Helvetica, Arial, sans-serif";
export const INK = "#222222";
export const MUTED = "#666666";
export const GRID = "#e3e3e3";

/** An approximate width of `s` at `size` px in FONT (DejaVu Sans averages about 0.58 em per character). */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

/**
 * The root element with a white background (charts are read on dark pages too), an accessible
 * <title>, and the chart's own title lines at the top left.
 */
export function frame(width: number, height: number, title: readonly string[], body: string[]): string {
  const heading = title.map((line, i) =>
    text({ x: 12, y: 22 + i * 18, "font-size": i === 0 ? 15 : 12, "font-weight": i === 0 ? "bold" : null, fill: i === 0 ? INK : MUTED, class: i === 0 ? "title" : "subtitle" }, line),
  );
  return (
    tag(
      "svg",
      { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "font-family": FONT },
      tag("title", {}, esc(title.join(". "))),
      tag("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
      ...heading,
      ...body,
    ) + "\n"
  );
}
