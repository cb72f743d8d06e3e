// The status page's files imported `with { type: "text" }` (src/status/assets.ts): strings.
declare module "*page/app.js" {
  const text: string;
  export default text;
}
declare module "*page/app.css" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
