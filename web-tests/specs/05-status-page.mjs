export const name = "a public status page without sign-in, in light and dark; without JavaScript a link stops its refresh; its badges; a monitor it does not list never shows";

// What must never appear on the public page, its JSON or its feed: the unlisted monitor (id,
// name, target path), the targets' address, labels, and the listed monitors' own names (the
// page renames them).
const LEAKS = ["demo-failing", "Demo: failing service", "/failing", "127.0.0.1", "managed-by", "Demo: healthy service"];

function noLeak(what, text) {
  for (const leak of LEAKS) {
    if (text.includes(leak)) throw new Error(`${what} shows ${JSON.stringify(leak)}`);
  }
}

export default async function (t) {
  const api = (path, init = {}) =>
    fetch(`${t.base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json", ...(init.headers || {}) },
    });
  const spec = {
    title: "Demo status",
    slug: "demo",
    description: "What our customers see.",
    announcement: "Planned database upgrade on Sunday at 02:00 UTC.",
    show: { uptime: true, latency: true },
    groups: [
      { name: "Website", monitors: [{ id: "demo-healthy", name: "Home page" }, { id: "demo-slow", name: "Search" }] },
      { name: "API", monitors: [{ id: "demo-flapping", name: "Public API" }] },
    ],
  };
  const put = await api("/status-pages/demo", { method: "PUT", body: JSON.stringify({ spec }) });
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT /status-pages/demo: ${put.status} ${await put.text()}`);

  for (const colorScheme of ["light", "dark"]) {
    const page = await t.newPage({ colorScheme });
    const answer = await page.goto(`${t.base}/status/demo`);
    if (answer.status() !== 200) throw new Error(`/status/demo answered ${answer.status()}`);
    for (const text of ["Demo status", "Website", "Home page", "Search", "Public API", "Planned database upgrade"]) {
      await page.getByText(text, { exact: false }).first().waitFor();
    }
    noLeak(`the page (${colorScheme})`, await page.content());
    const refresh = page.locator("#auto");
    if (!(await refresh.isVisible()) || !(await refresh.isChecked())) {
      throw new Error("the auto-refresh switch is not shown ticked");
    }
    await t.checkA11y(page, `/status/demo (${colorScheme})`);
    await t.screenshot(page, colorScheme === "light" ? "status-page" : "status-page-dark", { fullPage: true });
  }

  // Without JavaScript the page refreshes by a meta refresh, and a link turns that off (and
  // another back on), so a reader can stop it (WCAG 2.2.1).
  const still = await t.newPage({ javaScriptEnabled: false });
  const first = await still.goto(`${t.base}/status/demo`);
  if (first.status() !== 200) throw new Error(`/status/demo without JavaScript answered ${first.status()}`);
  if ((await still.locator('meta[http-equiv="refresh"]').count()) !== 1) {
    throw new Error("without JavaScript the page has no meta refresh");
  }
  const off = still.getByRole("link", { name: "stop refreshing" });
  if (!(await off.isVisible())) throw new Error("without JavaScript no visible link stops the refresh");
  await Promise.all([still.waitForURL(/\?refresh=off$/), off.click()]);
  await still.getByText("Demo status").first().waitFor();
  if ((await still.locator('meta[http-equiv="refresh"]').count()) !== 0) {
    throw new Error("?refresh=off still has a meta refresh");
  }
  if ((await still.locator("script").count()) !== 0) throw new Error("?refresh=off still has its script");
  noLeak("the still page", await still.content());
  const on = still.getByRole("link", { name: "turn it back on" });
  await Promise.all([still.waitForURL(/\?refresh=on$/), on.click()]);
  if ((await still.locator('meta[http-equiv="refresh"]').count()) !== 1) {
    throw new Error("turning the refresh back on gave no meta refresh");
  }
  // axe runs on timers, which do not fire without JavaScript: the still page (the same HTML
  // whichever the reader has) is checked in a context with it.
  const checked = await t.newPage();
  await checked.goto(`${t.base}/status/demo?refresh=off`);
  if ((await checked.locator("#auto").count()) !== 0) throw new Error("?refresh=off shows the refresh switch");
  await checked.getByRole("link", { name: "turn it back on" }).waitFor();
  await t.checkA11y(checked, "/status/demo?refresh=off");

  const badge = await fetch(`${t.base}/badge/demo/demo-healthy/status.svg`);
  if (badge.status !== 200 || !(badge.headers.get("content-type") || "").startsWith("image/svg+xml")) {
    throw new Error(`status badge: ${badge.status} ${badge.headers.get("content-type")}`);
  }
  if (!(await badge.text()).includes("<svg")) throw new Error("the status badge is not an SVG");
  const uptime = await fetch(`${t.base}/badge/demo/demo-healthy/uptime.svg?window=7d`);
  if (uptime.status !== 200) throw new Error(`uptime badge: ${uptime.status}`);
  const hidden = await fetch(`${t.base}/badge/demo/demo-failing/status.svg`);
  if (hidden.status !== 404) throw new Error(`a badge of a monitor the page does not list answered ${hidden.status}`);

  const json = await fetch(`${t.base}/status/demo.json`);
  if (json.status !== 200) throw new Error(`/status/demo.json answered ${json.status}`);
  const body = await json.json();
  if (body.groups.length !== 2 || body.groups[0].monitors.length !== 2) throw new Error(`unexpected groups: ${JSON.stringify(body.groups)}`);
  noLeak("the JSON", JSON.stringify(body));
  const feed = await fetch(`${t.base}/status/demo/feed.atom`);
  if (feed.status !== 200) throw new Error(`the Atom feed answered ${feed.status}`);
  const atom = await feed.text();
  if (!atom.includes("<feed")) throw new Error("the feed is not Atom");
  noLeak("the Atom feed", atom);
}
