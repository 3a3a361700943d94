export const name = "sign in with an API token; a wrong one is refused; the overview lists the demo monitors";

export default async function (t) {
  const page = await t.newPage();
  await page.goto(`${t.base}/`);
  if (!page.url().startsWith(`${t.base}/login`)) throw new Error(`not redirected to /login: ${page.url()}`);
  await t.checkA11y(page, "/login");
  await t.screenshot(page, "login");
  t.allowConsole(/status of 401/);
  await page.fill("#token", "vdt_" + "x".repeat(43));
  await page.click("button[type=submit]");
  await page.waitForSelector(".error");
  await t.signIn(page);
  await page.waitForSelector('tr[data-id="demo-healthy"]');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "vedette_session");
  if (!session || !session.httpOnly || session.sameSite !== "Strict") throw new Error(`session cookie flags: ${JSON.stringify(session)}`);
  if (session.value.includes(t.token.slice(4))) throw new Error("the cookie holds the secret");
  await t.checkA11y(page, "/ (overview)");
}
