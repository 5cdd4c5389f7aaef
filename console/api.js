// The daemon's JSON API, with the token the user typed in. The token lives in sessionStorage
// (gone when the tab closes) and travels only in the Authorization header, never in a URL.

const TOKEN_KEY = 'eventrouter.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// The message of an error answer: {"error": {"code", "message"}} or AWS's
// {"__type", "message"} (403); a status line when the body says nothing.
function errorOf(status, body) {
  if (body && typeof body === 'object') {
    if (body.error && typeof body.error === 'object') {
      return new ApiError(status, String(body.error.code || status),
        String(body.error.message || `HTTP ${status}`));
    }
    if (typeof body.message === 'string') {
      return new ApiError(status, String(body.__type || status), body.message);
    }
  }
  return new ApiError(status, String(status), `HTTP ${status} from the daemon`);
}

async function call(method, path, body) {
  const headers = {Accept: 'application/json'};
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  const init = {method, headers, cache: 'no-store', credentials: 'omit'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'NetworkError', `the daemon did not answer ${method} ${path}: ${e.message}`);
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      parsed = null;
    }
  }
  if (!response.ok) throw errorOf(response.status, parsed);
  if (parsed === null) {
    throw new ApiError(response.status, 'BadAnswer', `${method} ${path} did not answer JSON`);
  }
  return parsed;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body),
};

// "?a=1&b=x" from the non-empty values of an object.
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && String(value) !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
