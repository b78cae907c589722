// Paths shared by the interop tests.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const LIB_DIR = path.dirname(fileURLToPath(import.meta.url));
export const INTEROP_DIR = path.dirname(LIB_DIR);
export const REPO_ROOT = path.resolve(INTEROP_DIR, '..', '..');
// Debian's interpreter: it has python3-aiortc and gi (the python3 on PATH may be a pyenv one without them).
export const SYSTEM_PYTHON = process.env.STRATA_PYTHON || '/usr/bin/python3';
export const CHROMIUM = process.env.STRATA_CHROMIUM || '/usr/bin/chromium';
// Debian's Firefox ESR (package firefox-esr), driven by puppeteer-core over WebDriver BiDi.
export const FIREFOX = process.env.STRATA_FIREFOX || '/usr/bin/firefox-esr';

// artifacts/ at the repo root is git-ignored; STRATA_ARTIFACTS overrides (CI can collect it).
export function artifactsDir(...sub) {
  const dir = path.join(process.env.STRATA_ARTIFACTS || path.join(REPO_ROOT, 'artifacts'), ...sub);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// The server binary comes from STRATA_BIN or the first command-line argument.
export function strataBin() {
  const bin = process.env.STRATA_BIN || process.argv.slice(2).find((a) => !a.startsWith('-'));
  if (!bin) throw new Error('set STRATA_BIN (or pass the strata binary path as the first argument)');
  if (!fs.existsSync(bin)) throw new Error(`strata binary not found: ${bin}`);
  return path.resolve(bin);
}
