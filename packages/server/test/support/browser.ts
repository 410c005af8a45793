/**
 * A real headless browser for the tests: Debian's chromium (apt-get install
 * chromium) driven by playwright-core, which brings no browser of its own.
 *
 * The flags keep Chromium quiet on a machine without a network: without the
 * background-networking, component-update and sync switches it keeps trying to
 * reach Google's services. Each launch gets a fresh profile directory, removed
 * on close.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/**
 * Whether browser tests can run. In CI (CI=true) Chromium is installed by
 * .ci/run, so its absence is an error there rather than a skip.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env['CI']) throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs it (apt-get install -y chromium)`);
  return false;
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1400, height: 1600 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'slabcache-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport,
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
