// getPhoneNumber() and decrypt(): the user's data, with the session key the server keeps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needsConsole } from './support/fixtures.mjs';
import { failure, setup } from './support/world.mjs';

describe('phone and user data', needsConsole, () => {
  test('getPhoneNumber() exchanges the button code for the number, and me() shows it', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const phone = await client.getPhoneNumber(await wx.phoneCode({ phoneNumber: '13912345678' }));
    assert.deepEqual(phone, { phoneNumber: '13912345678', purePhoneNumber: '13912345678', countryCode: '86' });
    assert.equal((await client.me()).user.phone, '13912345678');
  });

  test('getPhoneNumber() logs in first when there is no token', async () => {
    const { wx, client } = setup('shop');
    const code = await wx.phoneCode();
    assert.equal((await client.getPhoneNumber(code)).purePhoneNumber, '13800138000');
    assert.equal(wx.calls.login, 1);
  });

  test('a phone code WeChat refuses is its error; a blank one is invalid_request', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const refused = await failure(client.getPhoneNumber(await wx.phoneCode({ errcode: 40029 })), 'invalid_code', 400);
    assert.equal(refused.wechatErrcode, 40029);
    await failure(client.getPhoneNumber(''), 'invalid_request', 400);
  });

  test('decrypt() opens data sealed with the session key of the last login', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const sealed = await wx.sealed({ nickName: '小明', gender: 1 });
    const data = await client.decrypt({ ...sealed, cloudID: 'ignored', errMsg: 'getUserInfo:ok' });
    assert.equal(data.nickName, '小明');
    assert.equal(data.gender, 1);
    assert.equal(data.watermark.appid, wx.appId);
    const sent = wx.calls.requests.at(-1).data;
    assert.deepEqual(Object.keys(sent).sort(), ['encryptedData', 'iv', 'rawData', 'signature']);
  });

  test('decrypt() without rawData and signature skips the signature check', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const { encryptedData, iv } = await wx.sealed({ stepInfoList: [] });
    assert.deepEqual((await client.decrypt({ encryptedData, iv })).stepInfoList, []);
  });

  test('a wrong signature is invalid_signature; data for another app is watermark_mismatch', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const sealed = await wx.sealed({ nickName: 'x' });
    await failure(client.decrypt({ ...sealed, signature: '0'.repeat(40) }), 'invalid_signature', 400);
    const foreign = await wx.sealed({ nickName: 'x' }, { watermark: { appid: 'wx0000000000000000', timestamp: 1 } });
    await failure(client.decrypt(foreign), 'watermark_mismatch', 422);
    await failure(client.decrypt({ iv: sealed.iv }), 'invalid_request', 400);
  });

  test('session_key_stale: the client logs in again, and data sealed after that opens', async () => {
    const { wx, client } = setup('shop');
    await client.login();
    const { encryptedData, iv } = await wx.sealed({ nickName: 'old' });
    await client.login(); // WeChat hands out a new session key; the sealed data is under the old one
    // (Without rawData and signature: with them the console answers invalid_signature, which it checks first.)
    await failure(client.decrypt({ encryptedData, iv }), 'session_key_stale', 409);
    assert.equal(wx.calls.login, 3);
    const fresh = await wx.sealed({ nickName: 'new' });
    assert.equal((await client.decrypt(fresh)).nickName, 'new');
  });
});
