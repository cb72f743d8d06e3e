// The status page's files, embedded as text: `bun build --compile` puts them inside the
// executable, so the page needs no network and no files next to the binary.
import html from "./page/index.html" with { type: "text" };
import appJs from "./page/app.js" with { type: "text" };
import appCss from "./page/app.css" with { type: "text" };
// uPlot (MIT), pinned in package.json: its browser build as published, served as it is.
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

export interface Asset {
  readonly type: string;
  readonly body: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Path -> file. The HTML is typed as an HTMLBundle by bun-types; imported as text it is a string. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", { type: "text/html; charset=utf-8", body: html as unknown as string }],
  ["/ui/app.js", { type: JS, body: appJs }],
  ["/ui/app.css", { type: CSS, body: appCss }],
  ["/ui/uplot.js", { type: JS, body: uplotJs }],
  ["/ui/uplot.css", { type: CSS, body: uplotCss }],
]);

/** Bytes the page loads (HTML, scripts, styles), for the README and the tests. */
export const PAGE_BYTES = [...ASSETS.values()].reduce((n, a) => n + Buffer.byteLength(a.body), 0);
