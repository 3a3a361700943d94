export const name = "open a monitor, see its charts, run it, pause and resume it";

export default async function (t) {
  const page = await t.newPage();
  await t.signIn(page);
  await Promise.all([page.waitForURL(`${t.base}/monitors/demo-slow`), page.click('a[href="/monitors/demo-slow"]')]);
  await page.waitForSelector("#chart-percentiles canvas", { timeout: 10_000 });
  await page.waitForSelector("#chart-phases canvas");
  const before = await page.$$eval("table.results tbody tr", (rows) => rows.length);
  await Promise.all([page.waitForLoadState("load"), page.click("#run-now")]);
  await page.waitForSelector("table.results tbody tr");
  const firstRow = await page.textContent("table.results tbody tr");
  if (!/up|degraded|down/.test(firstRow)) throw new Error(`no result after run: ${firstRow}`);
  const after = await page.$$eval("table.results tbody tr", (rows) => rows.length);
  t.figure(`results listed before run ${before}, after ${after}`);
  await page.click("#pause");
  await page.waitForSelector("text=Paused by");
  await page.waitForSelector("#resume");
  await page.click("#resume");
  await page.waitForSelector("#pause");
  if (await page.$("text=Paused by")) throw new Error("still paused after resume");
  await page.click('.ranges button[data-range="1h"]');
  await page.waitForSelector('.ranges button[data-range="1h"][aria-pressed="true"]');
  await page.waitForSelector("#chart-percentiles canvas");
  await t.checkA11y(page, "/monitors/demo-slow");
  await page.waitForTimeout(500);
  await t.screenshot(page, "monitor", { fullPage: true });
}
