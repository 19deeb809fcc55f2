// The REST API as the dashboard uses it: the Bearer token kept in sessionStorage (this tab only, gone
// when it closes), every error turned into an ApiError carrying the server's own `detail`.

const TOKEN = 'leedrush.token';
const EXPIRES_AT = 'leedrush.expires_at';
const EMAIL = 'leedrush.email';

export class ApiError extends Error {
  constructor(status, detail, retryAfterS) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.retryAfterS = retryAfterS;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  email: () => sessionStorage.getItem(EMAIL),
  /** Epoch ms at which the token stops being accepted. */
  expiresAt: () => Number(sessionStorage.getItem(EXPIRES_AT) ?? 0),
  save(token, expiresInS, email) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(EXPIRES_AT, String(Date.now() + expiresInS * 1000));
    sessionStorage.setItem(EMAIL, email);
  },
  clear() {
    for (const key of [TOKEN, EXPIRES_AT, EMAIL]) sessionStorage.removeItem(key);
  },
};

/** Back to the sign-in page, saying why (shown there). */
export function signOut(reason) {
  session.clear();
  location.assign(reason ? `/app/?reason=${encodeURIComponent(reason)}` : '/app/');
}

let onWait = () => {};
/** `fn(seconds)` is told whenever a request waits for the rate limit (0 when it goes again). */
export function onRateLimitWait(fn) {
  onWait = fn;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function errorOf(res) {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: the status line says enough
  }
  return new ApiError(res.status, detail, Number(res.headers.get('retry-after') ?? 0));
}

/**
 * fetch() with the token. A 429 was refused before anything happened, so the request is sent again
 * once after its Retry-After (up to a minute); a 401 means the token is no longer valid: sign in again.
 */
async function send(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = session.token();
  if (token) headers.set('authorization', `Bearer ${token}`);
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { ...init, headers });
    if (res.ok) return res;
    const err = await errorOf(res);
    if (res.status === 401 && token) signOut('Your session has ended: sign in again.');
    if (res.status !== 429 || attempt > 0 || err.retryAfterS > 60) throw err;
    onWait(err.retryAfterS);
    await sleep(err.retryAfterS * 1000);
    onWait(0);
  }
}

/** A JSON call: the parsed body, or null for 204. */
export async function api(method, path, body) {
  const res = await send(`/api${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status === 204 ? null : res.json();
}

/**
 * A file the API returns (it needs the token, so no plain link), saved through a Blob URL under the
 * name the server's Content-Disposition gives (else `fallbackName`).
 */
export async function download(path, fallbackName) {
  const res = await send(`/api${path}`);
  const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = named?.[1] ?? fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * POST /api/upload through XMLHttpRequest, the one browser API that reports upload progress:
 * `onProgress(loadedBytes, totalBytes)` as the body goes out; resolves with the upload's JSON.
 */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/upload');
    xhr.setRequestHeader('authorization', `Bearer ${session.token()}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 201) return resolve(xhr.response);
      if (xhr.status === 401) signOut('Your session has ended: sign in again.');
      const detail = typeof xhr.response?.detail === 'string' ? xhr.response.detail : `${xhr.status}`;
      reject(new ApiError(xhr.status, detail, Number(xhr.getResponseHeader('retry-after') ?? 0)));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload did not reach the server', 0)));
    const form = new FormData();
    form.append('file', file);
    xhr.send(form);
  });
}
