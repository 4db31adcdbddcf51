import { describe, expect, it } from 'vitest';
import { checkServerUrl, ControlPlaneClient, isLoopbackHost } from './control-plane.js';

describe('the control-plane URL an agent accepts', () => {
  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.3.4.5', '[::1]', '::1', 'a.localhost'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['192.0.2.1', '10.0.0.1', 'cp.example.com', '[2001:db8::1]', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('takes https anywhere and http on loopback', () => {
    expect(checkServerUrl('https://192.0.2.1:8443').host).toBe('192.0.2.1:8443');
    expect(checkServerUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(checkServerUrl('http://[::1]:8080').hostname).toBe('[::1]');
  });

  it('refuses plain http to another machine unless told --insecure-http', () => {
    expect(() => checkServerUrl('http://192.0.2.1:8080')).toThrow(
      '--server "http://192.0.2.1:8080" is plain http:// to 192.0.2.1, which is not this machine',
    );
    expect(checkServerUrl('http://192.0.2.1:8080', true).hostname).toBe('192.0.2.1');
    expect(() => checkServerUrl('ftp://127.0.0.1/')).toThrow('must be an https:// URL');
    expect(() => checkServerUrl('not a url')).toThrow('is not a URL');
  });

  it('the client refuses at construction, synchronously: before any request can start', () => {
    // 192.0.2.1 is documentation data here: nothing is ever sent to it.
    expect(() => new ControlPlaneClient('http://192.0.2.1:8080', 'ope_x')).toThrow(
      /not this machine/,
    );
    const ok = new ControlPlaneClient('http://192.0.2.1:8080', 'ope_x', { insecureHttp: true });
    expect(ok).toBeInstanceOf(ControlPlaneClient);
  });
});
