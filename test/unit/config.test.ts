import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';

describe('loadConfig', () => {
  it('has safe defaults: dev mode off, an ephemeral secret, one WebRtcServer port per worker from 40000', () => {
    const config = loadConfig({});
    expect(config.devMode).toBe(false);
    expect(config.joinToken.secretIsEphemeral).toBe(true);
    expect(config.joinToken.secret.length).toBeGreaterThanOrEqual(32);
    expect(config.media.portBase).toBe(40000);
    expect(config.media.numWorkers).toBeGreaterThanOrEqual(1);
  });

  it('reads the environment', () => {
    const config = loadConfig({
      PLENUM_PORT: '8080',
      PLENUM_DEV_MODE: 'true',
      PLENUM_MEDIA_WORKERS: '3',
      PLENUM_MEDIA_ANNOUNCED_ADDRESS: '203.0.113.7',
      PLENUM_JOIN_TOKEN_SECRET: 's'.repeat(40),
    });
    expect(config.port).toBe(8080);
    expect(config.devMode).toBe(true);
    expect(config.media.numWorkers).toBe(3);
    expect(config.media.announcedAddress).toBe('203.0.113.7');
    expect(config.joinToken).toMatchObject({ secret: 's'.repeat(40), secretIsEphemeral: false });
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PLENUM_PORT: 'eighty' })).toThrow(/PLENUM_PORT/);
    expect(() => loadConfig({ PLENUM_JOIN_TOKEN_SECRET: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ PLENUM_DEV_MODE: 'maybe' })).toThrow(/PLENUM_DEV_MODE/);
    expect(() => loadConfig({ PLENUM_MEDIA_RTC_MIN_PORT: '5000', PLENUM_MEDIA_RTC_MAX_PORT: '4000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PLENUM_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/PLENUM_JOIN_TOKEN_SECRET/);
    expect(() => loadConfig({ PLENUM_REGISTRY: 'rest' })).toThrow(/PLENUM_REGISTRY_URL/);
    expect(() => loadConfig({ PLENUM_WEBHOOK_URL: 'https://hooks.example.org/x' })).toThrow(/PLENUM_WEBHOOK_SECRET/);
    expect(() => loadConfig({ PLENUM_DATABASE_URL: 'mysql://db.example/plenum' })).toThrow(/PLENUM_DATABASE_URL/);
  });

  it('refuses a cluster that cannot work: several nodes without one shared database or without shared secrets', () => {
    const cluster = {
      PLENUM_REDIS_URL: 'redis://127.0.0.1:6379',
      PLENUM_JOIN_TOKEN_SECRET: 's'.repeat(40),
      PLENUM_CLUSTER_SECRET: 'c'.repeat(40),
      PLENUM_EMBEDDED_IDP_SECRET: 'i'.repeat(40),
      PLENUM_DATABASE_URL: 'postgres://plenum@db.example/plenum',
    };
    expect(loadConfig(cluster).database.url).toBe(cluster.PLENUM_DATABASE_URL);
    const without = (name: keyof typeof cluster) => Object.fromEntries(Object.entries(cluster).filter(([k]) => k !== name));
    expect(() => loadConfig(without('PLENUM_DATABASE_URL'))).toThrow(/PLENUM_DATABASE_URL/);
    expect(() => loadConfig(without('PLENUM_EMBEDDED_IDP_SECRET'))).toThrow(/PLENUM_EMBEDDED_IDP_SECRET/);
    expect(() => loadConfig(without('PLENUM_CLUSTER_SECRET'))).toThrow(/PLENUM_CLUSTER_SECRET/);
    expect(() => loadConfig(without('PLENUM_JOIN_TOKEN_SECRET'))).toThrow(/PLENUM_JOIN_TOKEN_SECRET/);
    // One node needs no database server: the embedded engine.
    expect(loadConfig({}).database.url).toBeUndefined();
  });
});
