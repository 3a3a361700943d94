export const name = "incidents, maintenance, webhooks, tokens and events pages render and pass axe; a read token sees no actions";

export default async function (t) {
  const page = await t.newPage();
  await t.signIn(page);
  for (const path of ["/incidents", "/maintenance", "/webhooks", "/tokens", "/events"]) {
    const response = await page.goto(`${t.base}${path}`);
    if (response.status() !== 200) throw new Error(`${path}: ${response.status()}`);
    await t.checkA11y(page, path);
  }
  await page.goto(`${t.base}/events`);
  await page.waitForSelector("#live.on");
  await t.screenshot(page, "events");
  await page.goto(`${t.base}/incidents`);
  await t.screenshot(page, "incidents");

  // A read token: no run, pause or tokens.
  const created = await fetch(`${t.base}/api/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "web-tests-reader", scopes: ["read"] }),
  });
  const { token: secret } = await created.json();
  const reader = await t.newPage();
  await t.signIn(reader, secret);
  if (await reader.$('a[href="/tokens"]')) throw new Error("a read token sees the tokens link");
  await reader.goto(`${t.base}/monitors/demo-healthy`);
  if (await reader.$("#run-now")) throw new Error("a read token sees Run now");
  await reader.click("text=Sign out");
  await reader.waitForURL(/\/login/);
}
