// The CommonJS build: current, small, dependency-free, and the same client as the ES module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { OUTPUTS, build } from '../build.mjs';
import { needsConsole } from './support/fixtures.mjs';
import { setup } from './support/world.mjs';

const require = createRequire(import.meta.url);
const MINIFIED_BUDGET = 4500; // bytes: the library stays small

test('dist/index.js and the example\'s copy are the current build of index.mjs (npm run build)', () => {
  const { cjs } = build();
  for (const path of OUTPUTS) assert.equal(readFileSync(path, 'utf8'), cjs, `${path} is stale: npm run build`);
});

test(`minified, the library stays under ${MINIFIED_BUDGET} bytes`, (t) => {
  const { minified, gzipped } = build();
  t.diagnostic(`minified ${minified} bytes, gzipped ${gzipped} bytes`);
  assert.ok(minified < MINIFIED_BUDGET, `${minified} bytes minified`);
});

test('no dependency at run time: no import, no require, no dependencies in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.dependencies, undefined);
  assert.doesNotMatch(readFileSync(new URL('../index.mjs', import.meta.url), 'utf8'), /^\s*import\b|\brequire\(/m);
  assert.doesNotMatch(readFileSync(OUTPUTS[0], 'utf8'), /\brequire\(/);
});

test('the package resolves to the ES module for import and to the build for require', async () => {
  const esm = await import('wechat-mini-login-client');
  const cjs = require('wechat-mini-login-client');
  assert.equal(typeof esm.createClient, 'function');
  assert.equal(typeof cjs.createClient, 'function');
  assert.equal(require.resolve('wechat-mini-login-client'), OUTPUTS[0]);
});

test('the CommonJS build logs in like the ES module', needsConsole, async () => {
  const { createClient, ApiError } = require('../dist/index.js');
  const { wx } = setup('shop');
  const { fixtures } = await import('./support/fixtures.mjs');
  const client = createClient({ baseUrl: fixtures.baseUrl, loginMethod: fixtures.methods.shop.name, wx });
  const result = await client.login();
  assert.equal(result.registered, true);
  assert.equal((await client.me()).user.userId, result.user.userId);
  wx.nextLogins.push({ errcode: 40226 });
  await assert.rejects(client.login(), (error) => error instanceof ApiError && error.code === 'user_blocked');
});
