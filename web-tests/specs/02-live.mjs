export const name = "the overview changes state live from the event stream without a reload; time to interactive and page weight";

export default async function (t) {
  const page = await t.newPage();
  await t.signIn(page);
  // A fresh load, measured.
  await page.goto(`${t.base}/`);
  await page.waitForSelector("#live.on", { timeout: 10_000 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const bytes = resources.reduce((n, r) => n + (r.encodedBodySize || 0), nav.encodedBodySize || 0);
    return { interactive: nav.domInteractive, loaded: nav.loadEventEnd, bytes, html: nav.encodedBodySize, files: resources.length + 1 };
  });
  t.figure(`overview (demo): DOM interactive ${timing.interactive.toFixed(0)} ms, load ${timing.loaded.toFixed(0)} ms, ${timing.files} files, ${(timing.bytes / 1024).toFixed(1)} KiB (HTML ${(timing.html / 1024).toFixed(1)} KiB)`);
  if (timing.interactive > 1500) t.figure(`time to interactive ${timing.interactive.toFixed(0)} ms is over the 1.5 s goal`);

  // Mark the document: a reload would lose the mark.
  await page.evaluate(() => { window.__noReload = true; });
  const before = await page.$$eval("tr[data-id] .state", (els) => els.map((e) => e.closest("tr").dataset.id + "=" + e.dataset.state));
  // The flapping demo endpoint changes every 20 s; its monitor follows within a few checks.
  await page.waitForFunction((initial) => {
    const now = [...document.querySelectorAll("tr[data-id] .state")].map((e) => e.closest("tr").dataset.id + "=" + e.dataset.state);
    return now.some((s, i) => s !== initial[i]);
  }, before, { timeout: 90_000, polling: 250 });
  if (!(await page.evaluate(() => window.__noReload === true))) throw new Error("the page reloaded");
  const after = await page.$$eval("tr[data-id] .state", (els) => els.map((e) => e.closest("tr").dataset.id + "=" + e.dataset.state));
  t.figure(`live change: ${before.filter((s, i) => s !== after[i]).join(", ")} → ${after.filter((s, i) => s !== before[i]).join(", ")}`);
  await t.screenshot(page, "overview");
  const dark = await t.newPage({ colorScheme: "dark" });
  await t.signIn(dark);
  await dark.waitForSelector("#live.on");
  await t.checkA11y(dark, "/ (dark)");
  await t.screenshot(dark, "overview-dark");
  const phone = await t.newPage({ width: 390, height: 844 });
  await t.signIn(phone);
  await phone.waitForSelector("#live.on");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) throw new Error(`the overview is ${overflow}px wider than a phone`);
  await t.screenshot(phone, "overview-phone");
}
