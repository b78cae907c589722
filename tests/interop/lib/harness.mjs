// interopTest(): a node:test test with a hard time bound, one cleanup stack, and artifacts on
// failure (server log, client process output, page screenshots and console logs) in artifacts/<test>/.
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { artifactsDir, INTEROP_DIR, SYSTEM_PYTHON } from './paths.mjs';
import { startServer } from './server.mjs';
import { launchChromium, openClientPage, startPageServer } from './browser.mjs';
import { startProcess, withTimeout } from './procs.mjs';

function slug(s) { return s.replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/^-|-$/g, '').slice(0, 80); }

class Ctx {
  constructor(name) {
    this.name = name;
    this.cleanups = [];
    this.procs = [];
    this.pages = [];
    this.server = null;
  }

  defer(fn) { this.cleanups.push(fn); }

  async startServer(opts) {
    this.server = await startServer(opts);
    this.procs.push(this.server.proc);
    this.defer(() => this.server.stop());
    return this.server;
  }

  async browser() {
    if (!this._browser) {
      this._browser = await launchChromium();
      this.defer(() => this._browser.cleanup());
      if (!process.env.STRATA_INTEROP_SAME_ORIGIN) {
        this._pageServer = await startPageServer();
        this.defer(() => this._pageServer.close());
      }
    }
    return this._browser;
  }

  // A page with window.strataClient loaded (see lib/browser.mjs for the origin choice).
  async clientPage() {
    const browser = await this.browser();
    const page = await openClientPage(browser, { pageUrl: this._pageServer?.url ?? null, serverUrl: this.server?.httpUrl });
    this.pages.push(page);
    return page;
  }

  // A raw page (e.g. the server's demo page at "/").
  async rawPage(url) {
    const browser = await this.browser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.consoleLines = [];
    page.on('console', (msg) => page.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => page.consoleLines.push(`[pageerror] ${err.message}`));
    page.setDefaultTimeout(15000);
    this.pages.push(page);
    await page.goto(url);
    return page;
  }

  // Runs tests/interop/<script> with Debian's python3; output is captured and saved on failure.
  python(script, args, name = path.basename(script, '.py')) {
    const proc = startProcess(SYSTEM_PYTHON, ['-u', path.join(INTEROP_DIR, script), ...args],
      { name, env: { PYTHONDONTWRITEBYTECODE: '1' } });
    this.procs.push(proc);
    this.defer(() => proc.stop(3000));
    return proc;
  }

  async saveArtifacts(err) {
    const dir = artifactsDir(slug(this.name));
    fs.writeFileSync(path.join(dir, 'error.txt'), `${err?.stack ?? err}\n`);
    for (const [i, proc] of this.procs.entries()) {
      fs.writeFileSync(path.join(dir, `${i}-${slug(proc.name)}.log`), proc.text());
    }
    for (const [i, page] of this.pages.entries()) {
      fs.writeFileSync(path.join(dir, `page-${i}-console.log`), page.consoleLines.join('\n') + '\n');
      await withTimeout(page.screenshot({ path: path.join(dir, `page-${i}.png`) }), 5000, 'screenshot').catch(() => {});
    }
    process.stderr.write(`interop: artifacts saved in ${dir}\n`);
  }

  async cleanup() {
    while (this.cleanups.length) {
      const fn = this.cleanups.pop();
      await withTimeout(Promise.resolve().then(fn), 10000, 'cleanup').catch((e) => process.stderr.write(`cleanup: ${e.message}\n`));
    }
  }
}

// fn(ctx) runs with a hard bound of timeoutMs. The server must still be alive when fn returns
// (a crash mid-test is a failure even if the clients did not notice).
export function interopTest(name, { timeoutMs = 120000 } = {}, fn) {
  return test(name, { timeout: timeoutMs + 20000 }, async () => {
    const ctx = new Ctx(name);
    let failure = null;
    try {
      await withTimeout(fn(ctx), timeoutMs, name);
      if (ctx.server && !ctx.server.proc.running()) {
        throw new Error(`strata exited during the test: ${JSON.stringify(ctx.server.proc.exitStatus)}`);
      }
    } catch (err) {
      failure = err;
      await ctx.saveArtifacts(err).catch((e) => process.stderr.write(`saving artifacts failed: ${e.message}\n`));
    } finally {
      await ctx.cleanup();
    }
    if (failure) throw failure;
  });
}

// Prints a measurement so it shows in the CTest log (node:test captures console output per test).
export function report(label, value) {
  process.stdout.write(`# interop: ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}
