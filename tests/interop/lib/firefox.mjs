// Firefox (Debian's firefox-esr) driven by puppeteer-core over WebDriver BiDi. playwright-core
// cannot drive it: Playwright's Firefox is a patched build of its own, which we never download.
//
// Every launch gets a fresh profile (mkdtemp), removed on cleanup, so no state (permissions,
// cached certificates, ICE settings) carries over from one run to the next.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { FIREFOX } from './paths.mjs';

// Only what a test needs that a desktop user would have granted: a fake camera and microphone
// and no permission prompt. ICE settings stay at their defaults, so a test sees the candidate
// gathering and pairing of an ordinary desktop Firefox.
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,  // allow playback without a user gesture
};

// Returns a puppeteer Browser with cleanup() (closes it and removes the profile).
export async function launchFirefox({ prefs = {} } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-firefox-profile-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
      timeout: 30000,
    });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  browser.cleanup = async () => {
    await browser.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

// Opens `pageUrl` (the interop client page) with window.strataClient ready. Console output is kept
// on page.consoleLines, like the Chromium pages (harness artifacts).
export async function openFirefoxClientPage(browser, pageUrl) {
  const page = await browser.newPage();
  page.consoleLines = [];
  page.on('console', (msg) => page.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => page.consoleLines.push(`[pageerror] ${err.message}`));
  page.setDefaultTimeout(15000);
  await page.goto(pageUrl);
  await page.waitForFunction(() => !!window.strataClient, { timeout: 5000 });
  return page;
}
