// Clients and stand-ins for the tests, and raw HTTP calls made behind the client's back.
import assert from 'node:assert/strict';
import { ApiError, createClient } from '../../index.mjs';
import { fixtures } from './fixtures.mjs';
import { standInWx } from './standin.mjs';

/** A stand-in wx for a new (or the named) WeChat user of a login method's app, and a client using it. */
export function setup(methodKey = 'shop', { user, baseUrl, ...options } = {}) {
  const method = fixtures.methods[methodKey];
  const wx = standInWx({ simulatorUrl: fixtures.simulatorUrl, appId: method.appId, user });
  const client = createClient({ baseUrl: baseUrl || fixtures.baseUrl, loginMethod: method.name, wx, ...options });
  return { wx, client };
}

/** The ApiError a promise rejects with, checked to carry `code` (and `status` when given). */
export async function failure(promise, code, status) {
  let error;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ApiError, `expected an ApiError ${code}, got ${error === undefined ? 'success' : error}`);
  assert.equal(error.code, code, `${error.code}: ${error.message}`);
  if (status !== undefined) assert.equal(error.status, status);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  return error;
}

/** A call to the console with fetch, not through the client: {status, body}. */
export async function raw(method, path, { token, body } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${fixtures.baseUrl}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Revoke a token the way another device or the user's own logout elsewhere would. */
export async function revoke(token) {
  const answer = await raw('POST', '/auth/logout', { token, body: {} });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

/** The token the client keeps in the stand-in's storage, or undefined. */
export function keptToken(wx, key) {
  const [stored] = key ? [wx.store.get(key)] : [...wx.store.values()];
  return stored && stored.accessToken;
}
