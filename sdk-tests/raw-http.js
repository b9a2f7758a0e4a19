'use strict';
// The one way the tests send HTTP outside the SDK (for what the SDK cannot or will not send).

/**
 * Sends one request to `url`. `query` values are appended (an array repeats the key, undefined
 * is left out); a `token` is sent as a Bearer Authorization; `body` is sent as JSON, `form` as
 * application/x-www-form-urlencoded, `text` as it is; `headers` are sent last, so they win.
 * Returns { status, body (the parsed JSON, or undefined), text, headers }.
 */
async function rawRequest(method, url, { query, token, body, form, text: payloadText, headers: extraHeaders } = {}) {
  const target = new URL(url);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) target.searchParams.append(k, String(item));
  }
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload = payloadText;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  }
  const res = await fetch(target, { method, headers: { ...headers, ...extraHeaders }, body: payload });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

module.exports = { rawRequest };
