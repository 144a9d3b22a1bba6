// Time to first content of the home page in headless Chromium, median of 5 cold loads (a new
// browser context each: no cache, no session): first-contentful-paint as the browser reports
// it, and the time until the first video card of the hot ranking or the newest feed is on
// screen (the page's real content, after /config.json and its GraphQL queries).
// `node scripts/first-content.mjs [URL]`: against URL (e.g. http://127.0.0.1:4010/ of ./dev),
// else against a platform of its own started like the browser tests' (browser/platform.mjs).
import { launchChromium, startPlatform } from '../browser/platform.mjs';

const RUNS = 5;
const given = process.argv[2];
const platform = given ? null : await startPlatform();
const url = given ?? `${platform.webUrl}/`;
const browser = await launchChromium();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
try {
  // One warm-up load so the platform's own caches (Redis, dataloaders) are not what is measured.
  const warm = await browser.newContext();
  await (await warm.newPage()).goto(url, { waitUntil: 'networkidle' });
  await warm.close();
  const paints = [];
  const cards = [];
  for (let run = 0; run < RUNS; run += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const start = Date.now();
    await page.goto(url);
    await page.locator('[data-testid="video-card"]').first().waitFor({ timeout: 30_000 });
    cards.push(Date.now() - start);
    paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await context.close();
  }
  console.log(`home page ${url}, ${RUNS} cold loads`);
  console.log(`first-contentful-paint: median ${median(paints).toFixed(0)} ms  [${paints.map((v) => v.toFixed(0)).join(', ')}]`);
  console.log(`first video card shown: median ${median(cards).toFixed(0)} ms  [${cards.join(', ')}]`);
} finally {
  await browser.close();
  await platform?.stop();
}
