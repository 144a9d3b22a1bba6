// The browser tests of the web app (./test runs them): Debian's Chromium, driven by
// playwright-core, against a whole platform of our own (platform.mjs). Every page is watched
// for console errors, uncaught exceptions and failed requests, and each test keeps screenshots
// under web/artifacts/ (ignored by git). Conditions are waited for with Playwright's
// auto-waiting locators, each with a deadline; nothing sleeps.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import path from 'node:path';
import { launchChromium, repo, startPlatform } from './platform.mjs';

const ARTIFACTS = path.join(repo, 'web/artifacts');
const STEP_TIMEOUT_MS = 15_000;
const only = process.argv[2];
// A 1x1 grey PNG.
const PLACEHOLDER_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mN8/x8AAwMB/6X8b0sAAAAASUVORK5CYII=', 'base64');

const tests = [];
function test(name, body) {
  tests.push({ name, body });
}

function fail(message) {
  throw new Error(message);
}

/** A page whose console errors, page errors and failed requests are collected. */
async function watchedPage(browser, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  // The app needs no internet: every script, style and font comes from our own bundle, so a
  // request for one elsewhere is a failure. Content's own data may point elsewhere (the demo
  // catalogue's cover images are on picsum.photos); those get a local placeholder, since this
  // machine has no internet and a test must not depend on it.
  await context.route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    async (route) => {
      const request = route.request();
      if (['script', 'stylesheet', 'font'].includes(request.resourceType())) {
        problems.push(`${request.resourceType()} from outside the bundle: ${request.url()}`);
        await route.abort('blockedbyclient');
      } else if (request.resourceType() === 'image') {
        await route.fulfill({ status: 200, contentType: 'image/png', body: PLACEHOLDER_PNG });
      } else {
        problems.push(`request outside the platform: ${request.method()} ${request.url()}`);
        await route.abort('blockedbyclient');
      }
    },
  );
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? '';
    // ERR_ABORTED is the browser cancelling a request it no longer needs (a reload while a
    // query was in flight), not a request that failed.
    if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.method()} ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  let shots = 0;
  return (current = {
    page,
    context,
    problems,
    async shot(step) {
      shots += 1;
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${String(shots).padStart(2, '0')}-${step}.png`), fullPage: false });
    },
  });
}

/** The page of the test running now (a failed test's last screen is kept too). */
let current = null;

/** Waits until the element's whole text is `text`. */
function hasExactText(locator, text) {
  const escaped = String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return locator.filter({ hasText: new RegExp(`^\\s*${escaped}\\s*$`) }).waitFor();
}

async function count(locator) {
  const text = (await locator.textContent()) ?? '';
  const n = Number(text.trim());
  if (!Number.isInteger(n)) fail(`not a number: ${JSON.stringify(text)}`);
  return n;
}

const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const account = { email: `web-${unique}@example.test`, username: `web_${unique}`, password: 'web-pass-1' };

test('sign_up_sign_in_like_and_comment_and_the_counters_survive_a_reload', async ({ browser, webUrl }) => {
  const { page, shot, problems } = await watchedPage(browser, 'account-video');
  await page.goto(`${webUrl}/sign-up`);
  await page.getByText('A password has 8 to 128 characters with at least one letter and one digit.').waitFor();

  // The rule is checked before anything is sent; the server's message comes back for the rest.
  await page.getByLabel('E-mail').fill(account.email);
  await page.getByLabel('Username').fill('demo');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('.rule.bad').waitFor();
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('alert').filter({ hasText: 'CONFLICT' }).waitFor();
  await shot('sign-up-error');

  await page.getByLabel('Username').fill(account.username);
  await page.getByRole('button', { name: 'Create account' }).click();
  await hasExactText(page.getByTestId('signed-in-as'), account.username);
  await page.getByTestId('hot-ranking').waitFor();
  await page.getByTestId('feed').getByTestId('video-card').first().waitFor();
  await shot('home-signed-in');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username or e-mail').fill(account.username);
  await page.getByLabel('Password').fill('wrong-pass-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await hasExactText(page.getByTestId('signed-in-as'), account.username);

  await page.getByTestId('feed').getByTestId('video-card').first().click();
  await page.getByTestId('video-title').waitFor();
  const likes = await count(page.getByTestId('likes'));
  const comments = await count(page.getByTestId('comment-count'));

  // Optimistic: the counter moves while the server has not answered yet (the response is held).
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  await page.route('**/graphql', async (route) => {
    if ((route.request().postData() ?? '').includes('mutation LikeVideo')) await held;
    await route.continue();
  });
  await page.getByTestId('like').click();
  await hasExactText(page.getByTestId('likes'), likes + 1);
  release();
  await page.getByTestId('like').and(page.locator('[aria-pressed="true"]')).waitFor();

  const body = `A comment from the browser test ${unique}`;
  await page.getByLabel('Comment', { exact: true }).fill(body);
  await page.getByRole('button', { name: 'Post comment' }).click();
  await page.getByTestId('comment-body').filter({ hasText: body }).waitFor();
  await hasExactText(page.getByTestId('comment-count'), comments + 1);
  await shot('video-liked-and-commented');

  await page.reload();
  await hasExactText(page.getByTestId('likes'), likes + 1);
  await page.getByTestId('like').and(page.locator('[aria-pressed="true"]')).waitFor();
  await hasExactText(page.getByTestId('comment-count'), comments + 1);
  await page.getByTestId('comment-body').filter({ hasText: body }).waitFor();
  await shot('video-after-reload');
  return problems;
});

test('the_admin_consoles_graphiql_runs_a_query_against_the_router_and_non_admins_are_refused', async ({ browser, webUrl }) => {
  const { page, shot, problems } = await watchedPage(browser, 'admin');
  const signIn = async (login, password) => {
    await page.goto(`${webUrl}/sign-in`);
    await page.getByLabel('Username or e-mail').fill(login);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
  };
  await signIn('demo', 'demo-pass-1');
  await page.goto(`${webUrl}/admin`);
  await page.getByText('Only admins can open the admin console.').waitFor();
  await shot('refused');
  await page.getByRole('button', { name: 'Sign out' }).click();

  await signIn('admin', 'admin-pass-1');
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  // GraphiQL runs the query of its editor: wait until the editor holds it (monaco rendered it).
  const graphiql = page.getByTestId('graphiql');
  await graphiql.locator('.graphiql-query-editor .view-lines').filter({ hasText: '__typename' }).waitFor();
  await graphiql.locator('.graphiql-execute-button').click();
  await page.locator('.graphiql-response').filter({ hasText: '"__typename": "Query"' }).waitFor({ timeout: 30_000 });
  await shot('graphiql-result');
  return problems;
});

test('the_admin_consoles_operations_tabs_show_their_data_and_each_one_mutation_round_trips', async ({ browser, webUrl, routerUrl }) => {
  const offender = await register(routerUrl, 'ban');
  const reporter = await register(routerUrl, 'report');
  const { channels } = await gql(routerUrl, '{ channels { id } }');
  const adminLogin = await gql(routerUrl, 'mutation { login(input: { login: "admin", password: "admin-pass-1" }) { accessToken } }');
  const zone = await gql(routerUrl, 'mutation($input: ZoneInput!) { createZone(input: $input) { id } }', { input: { name: `Reports ${unique}`, description: 'A zone of the report queue test' } }, adminLogin.login.accessToken);
  const post = await gql(routerUrl, 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }', { input: { zoneId: zone.createZone.id, body: `Reported ${unique}` } }, offender.token);
  await gql(routerUrl, 'mutation($id: ID!) { reportPost(id: $id, reason: "spam") }', { id: post.createPost.id }, reporter.token);
  const { page, shot, problems } = await watchedPage(browser, 'admin-operations');
  await signIn(page, webUrl, 'admin', 'admin-pass-1');
  await page.goto(`${webUrl}/admin`);

  await page.getByRole('tab', { name: 'Moderation' }).click();
  const reportRow = page.getByRole('row').filter({ hasText: `Reported ${unique}` });
  await reportRow.filter({ hasText: 'spam' }).waitFor();
  await shot('report-queue');
  await reportRow.getByRole('button', { name: 'Dismiss' }).click();
  await reportRow.waitFor({ state: 'detached' });
  await page.getByLabel('User id to ban').fill(offender.id);
  await page.getByLabel('Sanction reason').fill('browser test');
  await page.getByRole('button', { name: 'Ban', exact: true }).click();
  const bannedRow = page.getByTestId('banned-users').getByRole('listitem').filter({ hasText: offender.name });
  await bannedRow.waitFor();
  await shot('moderation');
  await bannedRow.getByRole('button', { name: 'Unban' }).click();
  await bannedRow.waitFor({ state: 'detached' });

  await page.getByRole('tab', { name: 'Gifts and medals' }).click();
  const giftId = `gift-${unique}`;
  await page.getByLabel('Gift id').fill(giftId);
  await page.getByLabel('Gift name').fill('Browser gift');
  await page.getByLabel('Gift price').fill('7');
  await page.getByRole('button', { name: 'Create gift' }).click();
  const giftRow = page.getByTestId('gifts').getByRole('row').filter({ hasText: giftId });
  await giftRow.getByRole('button', { name: 'Deactivate' }).click();
  await giftRow.getByRole('button', { name: 'Activate', exact: true }).waitFor();
  await giftRow.filter({ hasText: 'inactive' }).waitFor();
  // The same id again: the server's refusal is shown.
  await page.getByRole('button', { name: 'Create gift' }).click();
  await page.locator('.error[role="alert"]').waitFor();
  await page.getByRole('heading', { name: 'Medals' }).waitFor();
  await shot('gifts-and-medals');

  await page.getByRole('tab', { name: 'Ranking' }).click();
  const version = page.getByTestId('hot-weights-version');
  const before = await version.textContent();
  await page.getByRole('button', { name: 'Save weights' }).click();
  await version.filter({ hasNotText: before }).waitFor();
  await page.getByRole('button', { name: 'Recompute now' }).click();
  await page.getByTestId('recompute-runs').getByRole('row').first().waitFor();
  await shot('ranking');

  await page.getByRole('tab', { name: 'Week stars' }).click();
  await page.getByLabel('Channel id').fill(channels[0].id);
  await page.getByRole('button', { name: 'Show channel' }).click();
  const switches = page.getByTestId('week-star-switches');
  await switches.filter({ hasText: 'Web on' }).waitFor();
  await page.getByRole('button', { name: 'Hide on web' }).click();
  await switches.filter({ hasText: 'Web off' }).waitFor();
  await shot('week-stars');
  // The recharge test shows this channel's boards on the web.
  await page.getByRole('button', { name: 'Show on web' }).click();
  await switches.filter({ hasText: 'Web on' }).waitFor();

  await page.getByRole('tab', { name: 'Dead letters' }).click();
  await page.getByRole('heading', { name: 'Download dead letters' }).waitFor();
  await page.getByText('No download message is dead-lettered.').or(page.getByRole('button', { name: 'Retry' }).first()).waitFor();
  for (const consumer of ['content-follows', 'ranking-hot', 'ranking-weekstar-gifts']) {
    await page.getByTestId(`dead-letters-${consumer}`).getByRole('heading', { name: consumer }).waitFor();
  }
  await shot('dead-letters');
  return problems;
});

/** The size of the file the local media server serves at /media/clip.mp4. */
const MEDIA_BYTES = 4 * 1024 * 1024;

/**
 * A local media server for the download test: /media/clip.mp4 is MEDIA_BYTES of video/mp4,
 * sent in 256 KB pieces every 100 ms, so the download runs for about 1.6 s and reports
 * progress on the way (the platform is allowed to fetch from loopback for this run only).
 */
function startMediaServer() {
  const body = Buffer.alloc(MEDIA_BYTES, 7);
  const server = http.createServer((request, response) => {
    if (request.url !== '/media/clip.mp4') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': String(MEDIA_BYTES) });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    let sent = 0;
    const piece = 256 * 1024;
    const timer = setInterval(() => {
      response.write(body.subarray(sent, sent + piece));
      sent += piece;
      if (sent >= MEDIA_BYTES) {
        clearInterval(timer);
        response.end();
      }
    }, 100);
    response.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function signUp(page, webUrl, tag) {
  const name = `web_${tag}_${unique}`;
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel('E-mail').fill(`${name}@example.test`);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('web-pass-1');
  await page.getByRole('button', { name: 'Create account' }).click();
  await hasExactText(page.getByTestId('signed-in-as'), name);
}

test('a_download_of_a_local_file_shows_its_progress_bar_reach_100_percent_and_the_file_saves', async ({ browser, webUrl, mediaUrl }) => {
  const { page, shot, problems } = await watchedPage(browser, 'downloads');
  await signUp(page, webUrl, 'dl');
  await page.getByRole('link', { name: 'Downloads' }).click();
  await page.getByText('No downloads yet.').waitFor();
  await page.getByTestId('quota').filter({ hasText: 'Used today: 0' }).waitFor();

  await page.getByLabel('Video URL').fill(`${mediaUrl}/media/clip.mp4`);
  await page.getByRole('button', { name: 'Read' }).click();
  await page.getByTestId('parsed').waitFor();
  await shot('parsed');
  await page.getByRole('button', { name: 'Start download' }).click();

  const row = page.getByTestId('download').first();
  await row.waitFor();
  await page.locator('[data-testid="download"][data-status="COMPLETED"]').waitFor({ timeout: 30_000 });
  await hasExactText(row.getByTestId('percent'), '100 %');
  await row.locator('[role="progressbar"][aria-valuenow="100"]').waitFor();
  await page.getByTestId('quota').filter({ hasText: 'Used today: 1' }).waitFor();
  await shot('completed');

  const saving = page.waitForEvent('download');
  await row.getByTestId('save-file').click();
  const saved = await saving;
  const bytes = await readFile(await saved.path());
  if (bytes.length !== MEDIA_BYTES) fail(`the saved file has ${bytes.length} bytes, not ${MEDIA_BYTES}`);
  return problems;
});

/** A GraphQL call to the router for a test's arrangements; throws on any error. */
async function gql(routerUrl, query, variables = {}, token = null) {
  const response = await fetch(routerUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const reply = await response.json();
  if (reply.errors?.length) fail(`${query}\n${JSON.stringify(reply.errors)}`);
  return reply.data;
}

async function register(routerUrl, tag) {
  const name = `web_${tag}_${unique}`;
  const data = await gql(routerUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }', {
    input: { email: `${name}@example.test`, username: name, password: 'web-pass-1' },
  });
  return { name, id: data.register.user.id, token: data.register.accessToken };
}

async function signIn(page, webUrl, login, password) {
  await page.goto(`${webUrl}/sign-in`);
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor();
}

/** The platform of the browser tests runs PK phases this short (seconds). */
const PK_SCORE_SECS = 10;
const PK_PUNISHMENT_SECS = 5;

test('two_browsers_in_a_live_room_one_gifts_during_a_pk_and_the_other_sees_the_score_within_a_second_then_the_phase_change', async ({ browser, webUrl, routerUrl, liveUrl, cliEnv }) => {
  // Arrange through the API: two live streamers on the PK whitelist and a funded fan.
  const [a, b, fan] = [await register(routerUrl, 'pka'), await register(routerUrl, 'pkb'), await register(routerUrl, 'fan')];
  const admin = await gql(routerUrl, 'mutation { login(input: { login: "admin", password: "admin-pass-1" }) { accessToken } }');
  const adminToken = admin.login.accessToken;
  const { channels } = await gql(routerUrl, '{ channels { id } }');
  const rooms = [];
  for (const streamer of [a, b]) {
    await gql(routerUrl, 'mutation($user: ID!) { addToPkWhitelist(userId: $user) }', { user: streamer.id }, adminToken);
    const opened = await gql(routerUrl, 'mutation($input: OpenRoomInput!) { openRoom(input: $input) { id } }', { input: { title: `PK room of ${streamer.name}`, channelId: channels[0].id } }, streamer.token);
    await gql(routerUrl, 'mutation { startLive { id } }', {}, streamer.token);
    rooms.push(opened.openRoom.id);
  }
  const order = await gql(routerUrl, 'mutation { createRechargeOrder(amount: 10000, channel: ALIPAY) { id } }', {}, fan.token);
  await promisify(execFile)(path.join(repo, 'target/debug/vidgraph'), ['pay', order.createRechargeOrder.id, '--url', liveUrl], { cwd: repo, env: cliEnv });

  const gifter = await watchedPage(browser, 'live-gifter');
  await signIn(gifter.page, webUrl, fan.name, 'web-pass-1');
  await gifter.page.goto(`${webUrl}/live/${rooms[0]}`);
  await hasExactText(gifter.page.getByTestId('balance'), 10000);
  const viewer = await watchedPage(browser, 'live-viewer');
  await viewer.page.goto(`${webUrl}/live/${rooms[0]}`);
  await viewer.page.getByTestId('viewer-count').waitFor();

  const invited = await gql(routerUrl, 'mutation($to: ID!) { invitePk(inviteeId: $to) { id } }', { to: b.id }, a.token);
  await gql(routerUrl, 'mutation($pk: ID!) { acceptPk(pkId: $pk) { state } }', { pk: invited.invitePk.id }, b.token);
  for (const { page } of [gifter, viewer]) {
    await page.locator('[data-testid="pk-bar"][data-state="SCORING"]').waitFor();
    await hasExactText(page.getByTestId('pk-inviter-score'), 0);
    const countdown = (await page.getByTestId('pk-countdown').textContent()) ?? '';
    const [minutes, seconds] = countdown.trim().split(':').map(Number);
    const left = minutes * 60 + seconds;
    if (!(left >= 0 && left <= PK_SCORE_SECS)) fail(`the countdown reads ${countdown}, not at most 0:${PK_SCORE_SECS}`);
  }
  await viewer.shot('pk-scoring');

  const clicked = Date.now();
  await gifter.page.getByTestId('gift-flower').click();
  await viewer.page.getByTestId('pk-inviter-score').filter({ hasNotText: /^0$/ }).waitFor({ timeout: 1_000 });
  const seenAfterMs = Date.now() - clicked;
  process.stderr.write(`[browser]   the viewer saw the PK score move ${seenAfterMs} ms after the gift was clicked\n`);
  await hasExactText(gifter.page.getByTestId('balance'), 10000 - 10);
  await viewer.shot('pk-score-moved');

  // The score phase ends at its deadline (PK_SCORE_SECS after the accept) on the server's timer.
  await viewer.page.locator('[data-testid="pk-bar"][data-state="PUNISHMENT"]').waitFor({ timeout: (PK_SCORE_SECS + 10) * 1000 });
  await viewer.page.getByTestId('pk-phase').filter({ hasText: 'Punishment' }).waitFor();
  await viewer.shot('pk-punishment');
  return [...gifter.problems, ...viewer.problems];
});

test('a_dynamic_published_by_a_streamer_appears_in_a_followers_open_page_without_a_reload_and_the_community_pages_work', async ({ browser, webUrl, routerUrl }) => {
  const streamer = await register(routerUrl, 'dyn');
  const admin = await gql(routerUrl, 'mutation { login(input: { login: "admin", password: "admin-pass-1" }) { accessToken } }');
  const zone = await gql(routerUrl, 'mutation($input: ZoneInput!) { createZone(input: $input) { id } }', { input: { name: `Zone ${unique}`, description: 'A zone of the browser tests' } }, admin.login.accessToken);
  const zoneId = zone.createZone.id;

  const follower = await watchedPage(browser, 'community-follower');
  const { page } = follower;
  await signUp(page, webUrl, 'fol');
  // Community pages: a zone, posting, a comment and a quote reply, the hall of fame.
  await page.getByRole('link', { name: 'Community' }).click();
  await page.getByRole('link', { name: `Zone ${unique}` }).waitFor();
  await follower.shot('zones');
  await page.getByRole('link', { name: `Zone ${unique}` }).click();
  await page.getByText('No posts in this zone yet.').waitFor();
  await page.getByLabel('New post').fill(`First post ${unique}`);
  await page.getByRole('button', { name: 'Post', exact: true }).click();
  await page.getByTestId('post-list').getByRole('link', { name: `First post ${unique}` }).waitFor();
  await follower.shot('zone-posts');
  await page.getByTestId('post-list').getByRole('link', { name: `First post ${unique}` }).click();
  await page.getByText('No comments yet.').waitFor();
  await page.getByLabel('New comment').fill('A first comment');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await page.getByText('A first comment').waitFor();
  await page.getByRole('button', { name: 'Quote reply' }).first().click();
  await page.getByLabel('New comment').fill('A quote reply');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await page.getByRole('button', { name: '1 replies' }).click();
  await page.locator('.replies blockquote').filter({ hasText: 'A first comment' }).waitFor();
  await page.locator('.replies').getByText('A quote reply').waitFor();
  await follower.shot('post-thread');
  await page.goto(`${webUrl}/community/zone/${zoneId}`);
  await page.getByRole('tab', { name: 'Hall of fame' }).click();
  await page.getByTestId('hall-of-fame').getByText(`web_fol_${unique}`).waitFor();
  await follower.shot('hall-of-fame');

  // Follow the streamer, then keep the following-dynamics page open.
  await page.goto(`${webUrl}/user/${streamer.id}`);
  await page.getByRole('button', { name: 'Follow' }).click();
  await page.getByRole('button', { name: 'Unfollow' }).waitFor();
  await hasExactText(page.getByTestId('follower-count'), 1);
  // The page subscribes to `dynamicPublished` once it has read the feed: the subscribe frame
  // on its socket is what the publication below waits for.
  const subscribed = page.waitForEvent('websocket').then((socket) =>
    socket.waitForEvent('framesent', { predicate: (frame) => String(frame.payload).includes('dynamicPublished') }),
  );
  await page.getByRole('link', { name: 'Dynamics' }).click();
  await page.getByText('Nobody you follow has published a dynamic yet.').waitFor();
  await page.getByTestId('dynamics-mode').filter({ hasText: 'New dynamics appear as they are published.' }).waitFor();
  await subscribed;
  await follower.shot('dynamics-empty');

  // The streamer publishes from their own page, in another browser context.
  const author = await watchedPage(browser, 'community-streamer');
  await signIn(author.page, webUrl, streamer.name, 'web-pass-1');
  await author.page.getByTestId('unread-notifications').filter({ hasText: '1' }).waitFor();
  await author.page.getByTestId('signed-in-as').click();
  await author.page.getByLabel('New dynamic').fill(`Going live soon ${unique}`);
  await author.page.getByRole('button', { name: 'Publish dynamic' }).click();
  await author.page.getByTestId('dynamic').filter({ hasText: `Going live soon ${unique}` }).waitFor();
  await author.shot('streamer-page');

  await page.getByTestId('following-dynamics').getByTestId('dynamic').filter({ hasText: `Going live soon ${unique}` }).waitFor({ timeout: 5_000 });
  await follower.shot('dynamic-pushed');

  // Notifications and direct messages, with the badge of an unread message.
  await author.page.getByRole('link', { name: 'Notifications' }).click();
  await author.page.getByText(`web_fol_${unique} followed you`).waitFor();
  await author.shot('notifications');
  await page.goto(`${webUrl}/user/${streamer.id}`);
  await page.getByRole('link', { name: 'Message', exact: true }).click();
  await page.getByText('No messages yet.').waitFor();
  await page.getByLabel('New message').fill('Hello streamer');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.messages').getByText('Hello streamer').waitFor();
  await author.page.goto(`${webUrl}/messages`);
  await author.page.getByTestId('unread-messages').filter({ hasText: '1' }).waitFor();
  await author.shot('messages');
  await author.page.getByRole('link', { name: `web_fol_${unique}` }).click();
  await author.page.locator('.messages').getByText('Hello streamer').waitFor();
  await author.shot('conversation');
  return [...follower.problems, ...author.problems];
});

test('a_video_with_a_source_draws_its_danmaku_over_the_player_in_the_three_modes_and_sends_one', async ({ browser, webUrl, routerUrl, mediaUrl }) => {
  const uploader = await register(routerUrl, 'vod');
  const { regions } = await gql(routerUrl, '{ regions { id } }');
  const created = await gql(
    routerUrl,
    'mutation($input: CreateVideoInput!) { createVideo(input: $input) { id } }',
    { input: { title: `Danmaku clip ${unique}`, regionId: regions[0].id, durationSecs: 60, sourceUrl: `${mediaUrl}/media/clip.mp4` } },
    uploader.token,
  );
  const videoId = created.createVideo.id;
  // Its source is this run's media server: the video must not outlive the run (the instance's
  // database does, and the next run's first test opens the newest video of the feed).
  try {
    return await danmakuOverThePlayer({ browser, webUrl, routerUrl, uploader, videoId });
  } finally {
    await gql(routerUrl, 'mutation($id: ID!) { deleteVideo(id: $id) }', { id: videoId }, uploader.token);
  }
});

async function danmakuOverThePlayer({ browser, webUrl, routerUrl, uploader, videoId }) {
  for (const [text, mode] of [['scrolling by', 'SCROLL'], ['fixed on top', 'TOP'], ['fixed at the bottom', 'BOTTOM']]) {
    await gql(routerUrl, 'mutation($input: SendDanmakuInput!) { sendDanmaku(input: $input) { id } }', { input: { videoId, offsetMs: 0, text, mode } }, uploader.token);
  }
  // Later than the paused player's time 0: not on screen.
  await gql(routerUrl, 'mutation($input: SendDanmakuInput!) { sendDanmaku(input: $input) { id } }', { input: { videoId, offsetMs: 30_000, text: 'half a minute in' } }, uploader.token);

  const viewer = await watchedPage(browser, 'video-danmaku');
  await signUp(viewer.page, webUrl, 'vodv');
  await viewer.page.goto(`${webUrl}/video/${videoId}`);
  const layer = viewer.page.getByTestId('danmaku-layer');
  await layer.locator('.vod-danmaku.scroll').filter({ hasText: 'scrolling by' }).waitFor();
  await layer.locator('.vod-danmaku.top').filter({ hasText: 'fixed on top' }).waitFor();
  await layer.locator('.vod-danmaku.bottom').filter({ hasText: 'fixed at the bottom' }).waitFor();
  if ((await layer.getByText('half a minute in').count()) !== 0) fail('a danmaku of 0:30 is shown at 0:00');
  await viewer.page.getByLabel('Danmaku', { exact: true }).fill('my own danmaku');
  await viewer.page.getByLabel('Danmaku mode').selectOption('TOP');
  await viewer.page.getByRole('button', { name: 'Send danmaku' }).click();
  await layer.locator('.vod-danmaku.top').filter({ hasText: 'my own danmaku' }).waitFor();
  await viewer.shot('danmaku');
  return viewer.problems;
}

test('a_recharge_in_a_live_room_creates_an_order_that_the_development_payment_callback_credits_and_the_week_star_boards_show', async ({ browser, webUrl, routerUrl, liveUrl, cliEnv }) => {
  const streamer = await register(routerUrl, 'rch');
  const fan = await register(routerUrl, 'rchfan');
  const { channels } = await gql(routerUrl, '{ channels { id } }');
  const opened = await gql(routerUrl, 'mutation($input: OpenRoomInput!) { openRoom(input: $input) { id } }', { input: { title: `Recharge room ${unique}`, channelId: channels[0].id } }, streamer.token);
  await gql(routerUrl, 'mutation { startLive { id } }', {}, streamer.token);

  const viewer = await watchedPage(browser, 'live-recharge');
  await signIn(viewer.page, webUrl, fan.name, 'web-pass-1');
  await viewer.page.goto(`${webUrl}/live/${opened.openRoom.id}`);
  await hasExactText(viewer.page.getByTestId('balance'), 0);
  await viewer.page.getByTestId('week-star').getByRole('heading', { name: 'Week stars' }).waitFor();
  await viewer.page.getByRole('button', { name: 'Recharge 1000', exact: true }).click();
  const order = viewer.page.locator('[data-testid="recharge-order"][data-status="PENDING"]');
  await order.waitFor();
  await viewer.shot('order-pending');
  // The development payment provider: the CLI sends the signed callback, as a person would.
  const orderId = await order.getAttribute('data-order-id');
  await promisify(execFile)(path.join(repo, 'target/debug/vidgraph'), ['pay', orderId, '--url', liveUrl], { cwd: repo, env: cliEnv });
  await viewer.page.locator('[data-testid="recharge-order"][data-status="PAID"]').waitFor();
  await hasExactText(viewer.page.getByTestId('balance'), 1000);
  await viewer.shot('order-paid');
  return viewer.problems;
});

test('with_push_turned_off_in_the_admin_console_a_followers_dynamics_page_polls_and_shows_a_new_dynamic', async ({ browser, webUrl, routerUrl }) => {
  const streamer = await register(routerUrl, 'poll');
  const follower = await register(routerUrl, 'pollfan');
  await gql(routerUrl, 'mutation($id: ID!) { followUser(userId: $id) { following } }', { id: streamer.id }, follower.token);

  const admin = await watchedPage(browser, 'admin-push');
  await signIn(admin.page, webUrl, 'admin', 'admin-pass-1');
  await admin.page.goto(`${webUrl}/admin`);
  await admin.page.getByRole('tab', { name: 'Community' }).click();
  await admin.page.getByTestId('push-state').filter({ hasText: 'Push is on' }).waitFor();
  // The server refuses an interval under 5 s: its message is shown.
  await admin.page.getByLabel('Poll interval').fill('1');
  await admin.page.getByRole('button', { name: 'Turn push off' }).click();
  await admin.page.locator('.error[role="alert"]').waitFor();
  await admin.page.getByLabel('Poll interval').fill('5');
  await admin.page.getByRole('button', { name: 'Turn push off' }).click();
  await admin.page.getByTestId('push-state').filter({ hasText: 'Push is off' }).waitFor();
  await admin.page.getByText('No post waits for review.').waitFor();
  await admin.shot('community');
  await admin.page.getByRole('tab', { name: 'Live' }).click();
  await admin.page.getByLabel('User id').fill(streamer.id);
  await admin.page.getByRole('button', { name: 'Add' }).click();
  await admin.page.getByRole('listitem').filter({ hasText: streamer.name }).waitFor();
  await admin.shot('pk-whitelist');
  try {
    const viewer = await watchedPage(browser, 'dynamics-polling');
    await signIn(viewer.page, webUrl, follower.name, 'web-pass-1');
    await viewer.page.getByRole('link', { name: 'Dynamics' }).click();
    await viewer.page.getByTestId('dynamics-mode').filter({ hasText: 'Push is off: checking for new dynamics every 5 s.' }).waitFor();
    await viewer.page.getByText('Nobody you follow has published a dynamic yet.').waitFor();
    await gql(routerUrl, 'mutation($body: String!) { createDynamic(body: $body) { id } }', { body: `Polled ${unique}` }, streamer.token);
    // One poll interval and the poll's own time: well inside the deadline.
    await viewer.page.getByTestId('following-dynamics').getByText(`Polled ${unique}`).waitFor({ timeout: 12_000 });
    await viewer.shot('dynamic-polled');
    return [...admin.problems, ...viewer.problems];
  } finally {
    // The other tests expect push on.
    await admin.page.getByRole('tab', { name: 'Community' }).click();
    await admin.page.getByRole('button', { name: 'Turn push on' }).click();
    await admin.page.getByTestId('push-state').filter({ hasText: 'Push is on' }).waitFor();
  }
});

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  const started = Date.now();
  const media = await startMediaServer();
  const mediaUrl = `http://127.0.0.1:${media.address().port}`;
  // The download test fetches from the local media server: loopback is allowed for this run.
  // Short PK phases, so the phase change at the deadline is seen in seconds.
  const platform = await startPlatform({
    env: {
      VIDGRAPH_ASSETS__ALLOW_DESTINATIONS: '["127.0.0.0/8"]',
      VIDGRAPH_LIVE__PK_SCORE_SECS: String(PK_SCORE_SECS),
      VIDGRAPH_LIVE__PK_PUNISHMENT_SECS: String(PK_PUNISHMENT_SECS),
    },
  });
  const browser = await launchChromium();
  const failures = [];
  let ran = 0;
  try {
    for (const { name, body } of tests) {
      if (only && !name.includes(only)) continue;
      ran += 1;
      current = null;
      const t0 = Date.now();
      try {
        const problems = await body({ browser, webUrl: platform.webUrl, routerUrl: platform.routerUrl, liveUrl: platform.liveUrl, cliEnv: platform.cliEnv, mediaUrl });
        if (problems.length > 0) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);
        process.stderr.write(`[browser] PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
      } catch (error) {
        failures.push(name);
        await current?.shot('failed').catch(() => {});
        process.stderr.write(`[browser] FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n${error?.stack ?? error}\n`);
      }
    }
  } finally {
    await browser.close();
    await writeFile(path.join(ARTIFACTS, 'platform.log'), platform.output());
    await platform.stop();
    media.close();
  }
  process.stderr.write(`[browser] ${ran - failures.length} passed, ${failures.length} failed in ${((Date.now() - started) / 1000).toFixed(1)}s; screenshots in web/artifacts/\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`[browser] ${error?.stack ?? error}\n`);
  process.exit(1);
});
