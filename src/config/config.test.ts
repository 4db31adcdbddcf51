import { describe, expect, it } from 'vitest';
import { readAgentConfig, readControlPlaneConfig, checkBinary, ConfigError } from './config.js';
import { readEnvironment } from './environment.js';

describe('ControlPlaneConfig', () => {
  it('takes flags over the environment over the defaults', () => {
    const env = readEnvironment({ OUTPOST_LISTEN: '127.0.0.1:9000', OUTPOST_LOG_LEVEL: 'warn' });
    const c = readControlPlaneConfig({ logLevel: 'debug' }, env);
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(c.logLevel).toBe('debug');
    expect(c).toMatchObject({ probeInterval: 10, probeTimeout: 5, nginxCheck: 'auto' });
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(readControlPlaneConfig({ listen: '[::1]:8443' }, env).listen).toEqual({
      host: '::1',
      port: 8443,
    });
  });

  it('names the flag and the variable of a bad setting, and every bad setting', () => {
    const env = readEnvironment({});
    expect(() => readControlPlaneConfig({ listen: 'localhost' }, env)).toThrow(
      '--listen (OUTPOST_LISTEN): must look like 127.0.0.1:8080 or [::1]:8080',
    );
    expect(() => readControlPlaneConfig({ listen: '127.0.0.1:70000' }, env)).toThrow(
      'the port must be 65535 or less',
    );
    const both = () =>
      readControlPlaneConfig({ probeInterval: Number('ten'), nginxCheck: 'nginx' }, env);
    expect(both).toThrow(ConfigError);
    expect(both).toThrow(
      '--nginx-check: must be auto, off or an absolute path to the binary; --probe-interval: must be a number of seconds',
    );
    expect(() => readControlPlaneConfig({ probeInterval: -1 }, env)).toThrow('--probe-interval');
  });

  it('--build-timeout: seconds, longer than --nginx-check-timeout when both are given', () => {
    const env = readEnvironment({});
    expect(readControlPlaneConfig({}, env).buildTimeout).toBeUndefined();
    expect(readControlPlaneConfig({ buildTimeout: 90 }, env).buildTimeout).toBe(90);
    expect(
      readControlPlaneConfig({ buildTimeout: 90, nginxCheckTimeout: 60 }, env).buildTimeout,
    ).toBe(90);
    expect(() => readControlPlaneConfig({ buildTimeout: 0 }, env)).toThrow('--build-timeout:');
    expect(() => readControlPlaneConfig({ buildTimeout: Number('ten') }, env)).toThrow(
      '--build-timeout: must be a number of seconds',
    );
    expect(() => readControlPlaneConfig({ buildTimeout: 30, nginxCheckTimeout: 60 }, env)).toThrow(
      '--build-timeout: must be longer than --nginx-check-timeout (a build runs nginx -t)',
    );
  });

  it('--apply-timeout: seconds (absent: the apply worker’s default)', () => {
    const env = readEnvironment({});
    expect(readControlPlaneConfig({}, env).applyTimeout).toBeUndefined();
    expect(readControlPlaneConfig({ applyTimeout: 120 }, env).applyTimeout).toBe(120);
    expect(() => readControlPlaneConfig({ applyTimeout: 0 }, env)).toThrow('--apply-timeout:');
    expect(() => readControlPlaneConfig({ applyTimeout: Number('five') }, env)).toThrow(
      '--apply-timeout: must be a number of seconds',
    );
  });

  it('the test-only hold of state writes comes from OUTPOST_TEST_HOLD_STATE_WRITE_MS alone', () => {
    const env = readEnvironment({ OUTPOST_TEST_HOLD_STATE_WRITE_MS: '250' });
    expect(readControlPlaneConfig({}, env).testHoldStateWriteMs).toBe(250);
    expect(readControlPlaneConfig({}, readEnvironment({})).testHoldStateWriteMs).toBeUndefined();
    expect(() =>
      readControlPlaneConfig({}, readEnvironment({ OUTPOST_TEST_HOLD_STATE_WRITE_MS: '-1' })),
    ).toThrow('OUTPOST_TEST_HOLD_STATE_WRITE_MS (test only)');
  });

  it('--join-servers: a comma list of URLs, in order', () => {
    const env = readEnvironment({});
    expect(
      readControlPlaneConfig({ joinServers: 'https://a.example/, https://b.example' }, env)
        .joinServers,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(readControlPlaneConfig({}, env).joinServers).toBeUndefined();
    expect(() => readControlPlaneConfig({ joinServers: 'https://a.example,nope' }, env)).toThrow(
      '--join-servers URL 2: Invalid url',
    );
    expect(() => readControlPlaneConfig({ joinServers: ',' }, env)).toThrow(
      '--join-servers: needs at least one URL',
    );
  });

  it('resolves a check binary: off, auto (installed or not), or a path that must exist', () => {
    expect(checkBinary('off', '/bin/sh', '--nginx-check')).toBeUndefined();
    expect(checkBinary('auto', '/bin/sh', '--nginx-check')).toBe('/bin/sh');
    expect(checkBinary('auto', '/nonexistent/nginx', '--nginx-check')).toBeUndefined();
    expect(() => checkBinary('/nonexistent/nginx', '/bin/sh', '--nginx-check')).toThrow(
      '--nginx-check: no binary at /nonexistent/nginx',
    );
  });
});

describe('AgentConfig', () => {
  it('needs a server, and defaults the rest (www-data as nginx user when root)', () => {
    const env = readEnvironment({});
    expect(() => readAgentConfig({ tokenFile: '/t' }, env, false)).toThrow(
      '--server / --control-plane (OUTPOST_SERVER): is required',
    );
    const c = readAgentConfig({ tokenFile: '/t' }, { server: 'http://127.0.0.1:8080' }, true);
    expect(c).toMatchObject({
      servers: ['http://127.0.0.1:8080'],
      root: '/var/lib/outpost-agent',
      nginx: '/usr/sbin/nginx',
      caddy: '/usr/bin/caddy',
      wait: 30,
      reportInterval: 10,
      stopProxyOnExit: false,
      nginxUser: 'www-data',
    });
    expect(
      readAgentConfig({ tokenFile: '/t', server: 'http://127.0.0.1:1' }, env, false).nginxUser,
    ).toBeUndefined();
    expect(() =>
      readAgentConfig({ tokenFile: '/t', server: 'http://127.0.0.1:1', wait: 0 }, env, false),
    ).toThrow('--wait');
  });

  it('takes several control planes in order: --server (a comma list), then each --control-plane', () => {
    const env = { server: 'http://127.0.0.1:9,http://127.0.0.2:9' };
    expect(readAgentConfig({ tokenFile: '/t' }, env, false).servers).toEqual([
      'http://127.0.0.1:9',
      'http://127.0.0.2:9',
    ]);
    const flags = {
      tokenFile: '/t',
      server: 'http://127.0.0.1:1, http://127.0.0.1:2',
      controlPlane: ['http://127.0.0.1:3', 'http://127.0.0.1:4,http://127.0.0.1:5'],
    };
    // Flags replace the environment's list.
    expect(readAgentConfig(flags, env, false).servers).toEqual(
      [1, 2, 3, 4, 5].map((p) => `http://127.0.0.1:${p}`),
    );
    expect(() =>
      readAgentConfig({ tokenFile: '/t', controlPlane: ['http://127.0.0.1:1', 'nope'] }, {}, false),
    ).toThrow('--server / --control-plane (OUTPOST_SERVER) URL 2: Invalid url');
    expect(() =>
      readAgentConfig(
        { tokenFile: '/t', server: 'http://127.0.0.1:1,http://127.0.0.1:1' },
        {},
        false,
      ),
    ).toThrow('--server / --control-plane (OUTPOST_SERVER): names a URL twice');
  });

  it('takes a syslog server for the access log, and refuses what nginx could not read', () => {
    const env = readEnvironment({});
    const agent = (accessLogSyslog: string) =>
      readAgentConfig(
        { tokenFile: '/t', server: 'http://127.0.0.1:1', accessLogSyslog },
        env,
        false,
      ).accessLogSyslog;
    for (const ok of ['127.0.0.1:5140', 'logs.example.net', '[::1]:514', 'unix:/dev/log'])
      expect(agent(ok)).toBe(ok);
    for (const bad of ['127.0.0.1:5140;', 'a b', '127.0.0.1:99999', 'host:port', 'unix:'])
      expect(() => agent(bad)).toThrow('--access-log-syslog');
  });
});
