#!/usr/bin/env node
// page.js - drives the web page in Debian's chromium (playwright-core) against a running local
// stack, as a user would: asks for nothing but what the page shows. test_web_page.py starts the
// stack and reads this script's verdict: one JSON line on stdout, {"ok", "checks", "failures",
// "screenshots", "axe"}; exit 1 when a check failed.
//
//   node page.js URL KEY TINY_KEY UPLOAD_PNG OUT_DIR BEDROCK_URL
//
// KEY is an API key with room to spare, TINY_KEY one whose tier allows a single generation per
// window (the second shows the countdown). Screenshots go to OUT_DIR. BEDROCK_URL is bedrock-local's,
// whose /_control/faults slows the model down while the page waits for a job.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [url, key, tinyKey, uploadPng, outDir, bedrockUrl] = process.argv.slice(2);
const CHROMIUM = process.env.IMAGEGEN_CHROMIUM || "/usr/bin/chromium";
const WAIT = { timeout: 20000 };
// Answers the test provokes on purpose: the key the page asks for (403 before it has it), the
// invalid size (400) and the rate limit (429). Chromium logs each as a console error.
const EXPECTED_CONSOLE = /Failed to load resource: the server responded with a status of (400|403|429)/;

const checks = [];
const failures = [];
function check(name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), detail: detail === undefined ? null : detail });
  if (!ok) failures.push(`${name}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
}

async function step(name, fn) {
  try {
    await fn();
  } catch (err) {
    check(name, false, String(err && err.message ? err.message.split("\n")[0] : err));
  }
}

// Every result image rendered: complete with a natural width.
async function renderedCount(page, selector) {
  return page.$$eval(selector, (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
}

async function enterKey(page, value) {
  await page.locator("#key-dialog[open]").waitFor(WAIT);
  await page.fill("#key-input", value);
  await page.click("#key-save");
  await page.locator("#key-dialog[open]").waitFor({ state: "detached", timeout: WAIT.timeout });
}

async function axe(page, label, axeSource) {
  // CSP forbids injected script elements; evaluate runs through the DevTools protocol instead.
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  check(`axe (${label}): no serious or critical violations`, bad.length === 0, bad.length ? summary : undefined);
  return summary;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const screenshots = [];
  const axeReport = {};
  const consoleErrors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push("page error: " + e.message));

    await step("loads the page", async () => {
      const resp = await page.goto(url, { waitUntil: "load" });
      check("GET / is 200 text/html", resp.status() === 200 && /^text\/html/.test(resp.headers()["content-type"]),
        { status: resp.status(), type: resp.headers()["content-type"] });
      const csp = resp.headers()["content-security-policy"] || "";
      check("CSP: default-src 'none', script-src 'self' only, no inline or eval",
        /default-src 'none'/.test(csp) && /script-src 'self';/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp), csp);
      check("CSP: frame-ancestors 'none', base-uri 'none'",
        /frame-ancestors 'none'/.test(csp) && /base-uri 'none'/.test(csp), csp);
      check("CSP: the bucket's origin only for images and the upload",
        /img-src 'self' blob: data: http:\/\/127\.0\.0\.1:\d+;/.test(csp) &&
        /connect-src 'self' http:\/\/127\.0\.0\.1:\d+;/.test(csp), csp);
      // Escape leaves the dialog (no keyboard trap): the page says what it needs, and the API key
      // button asks again.
      await page.locator("#key-dialog[open]").waitFor(WAIT);
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => /needs an API key/.test(document.getElementById("notice-text").textContent),
        null, WAIT);
      check("without the key the page says it needs one", true);
      await page.click("#key-button");
      await enterKey(page, key);
      await page.locator("body[data-ready='1']").waitFor({ state: "attached", timeout: WAIT.timeout });
      check("the notice goes once the key is given", await page.isHidden("#notice"));
      const options = await page.$$eval("#model option", (o) => o.length);
      check("the model picker lists GET /models", options >= 1, options);
      const sizes = await page.$$eval("#size option", (o) => o.map((x) => x.value));
      check("the model's own sizes are offered", sizes.includes("ratio:16:9") && sizes.includes("custom"), sizes);
    });

    await step("generates an image through a job", async () => {
      await page.fill("#prompt", "a red coffee cup on a wooden table");
      await page.click("#generate");
      await page.waitForFunction(() => [...document.querySelectorAll("#results img")]
        .some((i) => i.complete && i.naturalWidth > 0), null, WAIT);
      const n = await renderedCount(page, "#results img");
      check("the generated image renders (naturalWidth > 0)", n === 1, n);
      const progress = await page.textContent("#progress");
      check("progress says done", /Done: 1 image/.test(progress), progress);
      const links = await page.$$eval("#results li:first-child a", (as) => as.map((a) => a.textContent));
      check("the image can be opened and downloaded", links.includes("Open") && links.includes("Download"), links);
      // A job's answer has no download link of its own: the page asks the image's record for one.
      const [download] = await Promise.all([page.waitForEvent("download", WAIT),
        page.click("#results li:first-child a.download")]);
      check("Download of a new image saves it under its name", /^[0-9a-f-]+\.png$/.test(download.suggestedFilename()),
        download.suggestedFilename());
    });

    await step("shows an invalid size, naming it", async () => {
      await page.selectOption("#size", "custom");
      await page.fill("#width", "1000");
      await page.fill("#height", "700");
      await page.click("#generate");
      await page.locator("#notice:not([hidden])").waitFor(WAIT);
      const text = await page.textContent("#notice-text");
      check("the message names width x height", /width x height 1000x700/.test(text), text);
      const invalid = await page.getAttribute("#width", "aria-invalid");
      check("the width field is marked invalid and focused",
        invalid === "true" && (await page.evaluate(() => document.activeElement.id)) === "width", invalid);
      await page.selectOption("#size", "ratio:1:1");
    });

    await step("can be used from the keyboard, with a visible focus", async () => {
      await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
      const seen = [];
      for (let i = 0; i < 12 && !seen.includes("generate"); i++) {
        await page.keyboard.press("Tab");
        seen.push(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
      }
      check("Tab reaches the prompt, the model and Generate", ["prompt", "model", "generate"].every((id) => seen.includes(id)), seen);
      const outline = await page.evaluate(() => {
        const st = getComputedStyle(document.activeElement);
        return `${st.outlineStyle} ${st.outlineWidth}`;
      });
      check("the focused control shows an outline", /^solid [1-9]/.test(outline), outline);
    });

    // bedrock-local blocks "dragon" and has retired SD3.5 Large (test_web_page.py's faults).
    await step("shows a filtered prompt", async () => {
      await page.fill("#prompt", "a dragon over a castle");
      await page.click("#generate");
      await page.waitForFunction(() => /^Filtered: /.test(document.getElementById("notice-text").textContent), null, WAIT);
      check("the filter's refusal reads as filtered", true, await page.textContent("#notice-text"));
    });

    await step("shows a retired model with the models to use instead", async () => {
      await page.selectOption("#model", "stability.sd3-5-large-v1:0");
      await page.fill("#prompt", "a lighthouse at dusk");
      await page.click("#generate");
      await page.waitForFunction(() => document.querySelectorAll("#notice-actions button").length > 0, null, WAIT);
      const text = await page.textContent("#notice-text");
      const buttons = await page.$$eval("#notice-actions button", (b) => b.map((x) => x.textContent));
      check("the message says the model is retired", /end of (its )?life|retired/i.test(text), text);
      check("the models to use instead are offered", buttons.includes("Use Stable Image Core"), buttons);
      await page.click("#notice-actions button:has-text('Use Stable Image Core')");
      check("choosing one switches the model", (await page.inputValue("#model")) === "stability.stable-image-core-v1:1" &&
        await page.isHidden("#notice"));
    });

    await step("removes the background of an upload", async () => {
      await page.setInputFiles("#edit-file", uploadPng);
      await page.selectOption("#task", "remove-background");
      await page.click("#run-edit");
      await page.waitForFunction(() => /Done/.test(document.getElementById("edit-progress").textContent) ||
        !document.getElementById("notice").hidden, null, WAIT);
      const notice = await page.$eval("#notice", (n) => n.hidden ? "" : n.textContent);
      check("the edit answered without an error", notice === "", notice);
      await page.waitForFunction(() => [...document.querySelectorAll("#results img")]
        .filter((i) => i.complete && i.naturalWidth > 0).length === 2, null, WAIT);
      const fig = await page.textContent("#results li:first-child figcaption");
      check("the edited image renders as PNG", /PNG/.test(fig), fig);
    });

    await step("inpaints an area painted on the picture", async () => {
      await page.selectOption("#task", "inpaint");
      await page.locator("#mask").waitFor(WAIT);
      await page.fill("#edit-prompt", "a blue ball");
      const box = await page.locator("#mask").boundingBox();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 5 });
      await page.mouse.up();
      await page.click("#run-edit");
      await page.waitForFunction(() => [...document.querySelectorAll("#results img")]
        .filter((i) => i.complete && i.naturalWidth > 0).length === 3 || !document.getElementById("notice").hidden, null, WAIT);
      const notice = await page.$eval("#notice", (n) => n.hidden ? "" : n.textContent);
      check("the inpaint with the painted mask answered without an error", notice === "", notice);
      const fig = await page.textContent("#results li:first-child figcaption");
      check("the inpainted image renders at the upload's size", /^128x96/.test(fig), fig);
    });

    let resultIds = [];
    await step("finds the new images in the gallery, a page at a time", async () => {
      resultIds = await page.$$eval("#results li", (lis) => lis.map((l) => l.dataset.id).filter(Boolean));
      check("each result carries its image id", resultIds.length === 3, resultIds);
      await page.screenshot({ path: path.join(outDir, "desktop-playground.png"), fullPage: true });
      screenshots.push("desktop-playground.png");
      axeReport.playground = await axe(page, "playground", axeSource);
      await page.click("#tab-gallery");
      await page.waitForFunction(() => document.querySelectorAll("#gallery-list li").length >= 12, null, WAIT);
      const first = await page.$$eval("#gallery-list li", (lis) => lis.slice(0, 3).map((l) => l.dataset.id));
      check("the newest gallery images are the ones just made", JSON.stringify(first) === JSON.stringify(resultIds),
        { gallery: first, results: resultIds });
      const total = Number(process.env.IMAGEGEN_WEB_IMAGES || 0);
      await page.evaluate(() => document.getElementById("gallery-end").scrollIntoView());
      await page.waitForFunction((t) => document.querySelectorAll("#gallery-list li").length >= t, total, WAIT);
      const count = await page.$$eval("#gallery-list li", (l) => l.length);
      const status = await page.textContent("#gallery-status");
      check("scrolling loads the next pages over the cursor, to the end", count === total && /all shown/.test(status),
        { count, total, status });
      const task = await page.textContent("#gallery-list li:nth-child(1) dl");
      check("the gallery shows an image's parameters", /inpaint/.test(task) && /Model/.test(task), task);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForFunction(() => [...document.querySelectorAll("#gallery-list li:nth-child(-n+2) img")]
        .filter((i) => i.complete && i.naturalWidth > 0).length === 2, null, WAIT);
      check("the gallery's newest images render", true);
      await page.click("#gallery-list li:nth-child(2) button:has-text('Fresh link')");
      await page.waitForFunction(() => {
        const img = document.querySelector("#gallery-list li:nth-child(2) img");
        return img.complete && img.naturalWidth > 0;
      }, null, WAIT);
      // Download saves the file (the bucket answers Content-Disposition: attachment), under the
      // object's name, with the image's bytes.
      const [download] = await Promise.all([page.waitForEvent("download", WAIT),
        page.click("#gallery-list li:nth-child(2) a.download")]);
      const saved = await download.path();
      const head = saved ? fs.readFileSync(saved).subarray(0, 8).toString("hex") : "";
      check("Download saves the image as a file", /^[0-9a-f-]+\.(png|jpg|webp)$/.test(download.suggestedFilename()) &&
        (head === "89504e470d0a1a0a" || head.startsWith("ffd8") || head.startsWith("52494646")),
        { name: download.suggestedFilename(), head });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(outDir, "desktop-gallery.png") });
      screenshots.push("desktop-gallery.png");
      axeReport.gallery = await axe(page, "gallery", axeSource);
      const generated = "#gallery-list li:has(button.again)";
      const seed = await page.$eval(`${generated} dl`, (dl) => {
        const dts = [...dl.querySelectorAll("dt")];
        const i = dts.findIndex((d) => d.textContent === "Seed");
        return dl.querySelectorAll("dd")[i].textContent;
      });
      await page.click(`${generated} button.again`);
      const filled = await page.inputValue("#seed");
      check("generate again fills the same seed in the playground", filled === seed && !(await page.isHidden("#playground")),
        { filled, seed });
    });

    // After the gallery's checks: the job goes on after the page stops waiting, and its image
    // lands in the gallery later.
    await step("shows a job's progress and stops waiting on request", async () => {
      const faults = (doc) => fetch(bedrockUrl + "/_control/faults", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(doc) });
      check("bedrock-local slows down", (await faults({ latency_ms: 2000 })).ok);
      try {
        await page.fill("#prompt", "a slow sunrise");
        await page.click("#generate");
        await page.waitForFunction(() => /^Job (queued|running)… \d+ s$/.test(document.getElementById("progress").textContent),
          null, WAIT);
        check("the progress line shows the job's state", true, await page.textContent("#progress"));
        check("Stop waiting is offered", await page.isVisible("#cancel"));
        await page.click("#cancel");
        await page.waitForFunction(() => /^Stopped waiting/.test(document.getElementById("progress").textContent), null, WAIT);
        check("stopping leaves the form ready again", await page.isEnabled("#generate") && await page.isHidden("#cancel"));
      } finally {
        await faults({ latency_ms: 0 });
      }
    });

    await step("phone width", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(outDir, "phone-playground.png"), fullPage: true });
      screenshots.push("phone-playground.png");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check("no sideways scrolling at 390 px", overflow <= 0, overflow);
      axeReport.phone = await axe(page, "phone", axeSource);
      await page.click("#tab-gallery");
      await page.screenshot({ path: path.join(outDir, "phone-gallery.png") });
      screenshots.push("phone-gallery.png");
      await page.click("#tab-play");
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step("shows the rate limit's countdown", async () => {
      await page.click("#key-button");
      await enterKey(page, tinyKey);
      await page.fill("#prompt", "a blue teapot");
      await page.fill("#seed", "");
      await page.click("#generate");
      await page.waitForFunction(() => /Done/.test(document.getElementById("progress").textContent) ||
        !document.getElementById("notice").hidden, null, WAIT);
      const first = await page.$eval("#notice", (n) => n.hidden ? "" : n.textContent);
      check("the first generation of the small tier succeeds", first === "" || /Settings and seed/.test(first), first);
      await page.click("#generate");
      await page.waitForFunction(() => /Rate limited: try again in \d+ seconds?/.test(
        document.getElementById("notice-text").textContent), null, WAIT);
      const before = await page.textContent("#notice-text");
      const secs = Number(before.match(/in (\d+) second/)[1]);
      check("the countdown starts from Retry-After", secs >= 1 && secs <= 50, before);
      check("Generate waits for the countdown", await page.isDisabled("#generate"));
      await page.waitForFunction((s) => {
        const m = document.getElementById("notice-text").textContent.match(/in (\d+) second/);
        return m && Number(m[1]) < s;
      }, secs, WAIT);
      check("the countdown counts down", true);
      await page.screenshot({ path: path.join(outDir, "desktop-rate-limited.png") });
      screenshots.push("desktop-rate-limited.png");
    });

    const unexpected = consoleErrors.filter((t) => !EXPECTED_CONSOLE.test(t));
    check("no console errors but the answers provoked on purpose", unexpected.length === 0, unexpected);
    await context.close();
  } finally {
    await browser.close();
  }
  const ok = failures.length === 0;
  process.stdout.write(JSON.stringify({ ok, checks, failures, screenshots, axe: axeReport, consoleErrors }) + "\n");
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, checks, failures: failures.concat(String(err.stack || err)) }) + "\n");
  process.exit(1);
});
