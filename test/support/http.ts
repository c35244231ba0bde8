// JSON calls to the services under test (@idp/testing's callJson, asking for JSON).
import { callJson, type JsonCallOptions, type JsonCallResult } from '@idp/testing';

export type HttpResult<T> = JsonCallResult<T>;

export function call<T = unknown>(
  method: string,
  url: string,
  o: JsonCallOptions = {},
): Promise<HttpResult<T>> {
  return callJson<T>(method, url, { ...o, headers: { accept: 'application/json', ...o.headers } });
}
