// Checked by `tsc --noEmit` (tsconfig.json), never run: the declarations fit WeChat's own types and the way
// the documentation uses them.
import { ApiError, createClient, type Client, type LoginResult } from '../index';

// The mini program's global wx is a WxLike.
const client: Client = createClient({ baseUrl: 'https://login.example.com', loginMethod: 'myWeChatMiniLogin', wx });

async function fiveLineLogin(): Promise<number> {
  const result: LoginResult = await client.login();
  const phone = await client.getPhoneNumber('code from the button');
  const data = await client.decrypt<{ nickName: string }>({ encryptedData: 'e', iv: 'i' });
  return result.user.userId + phone.purePhoneNumber.length + data.nickName.length;
}

async function onError(): Promise<string> {
  try {
    await createClient({
      baseUrl: 'https://login.example.com',
      loginMethod: 'myWeChatMiniLogin',
      onRegister: async () => ({ name: 'Alice' }),
      storage: { get: (key) => wx.getStorageSync(key), set: () => undefined, remove: () => undefined },
    }).me();
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError && error.code === 'rate_limited') return `wait ${error.retryAfter ?? 60} s`;
    throw error;
  }
}

// @ts-expect-error loginMethod is required
createClient({ baseUrl: 'https://login.example.com' });
// @ts-expect-error onRegister answers a profile, a boolean or nothing
createClient({ baseUrl: 'x', loginMethod: 'y', onRegister: () => 42 });

export { fiveLineLogin, onError };
