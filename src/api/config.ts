/**
 * Every tunable number of the HTTP API and web app, in one place (see docs/api.md). Times in the units
 * their names say.
 */
export interface ApiConfig {
  // --- sessions and cookies ------------------------------------------------------------------
  /** A session ends this long after login, whatever happens. */
  sessionMaxAgeMs: number;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /**
   * Session cookies carry `Secure` (and the `__Host-` name prefix). Browsers accept Secure cookies
   * from http://localhost and http://127.0.0.1, so only a plain-HTTP deployment on another host turns
   * this off (and should not exist: put TLS in front).
   */
  secureCookies: boolean;

  // --- passwords (scrypt, memory-hard) --------------------------------------------------------
  /** scrypt cost N (a power of two): memory is 128 * N * r bytes (64 MiB at 2^16, r 8). */
  scryptN: number;
  scryptR: number;
  scryptP: number;
  /** Shortest password accepted when an account is created or a password changed. */
  passwordMinLength: number;

  // --- login rate limiting (failed attempts only) ------------------------------------------------
  /** Failed logins allowed per client address within the window before it must wait. */
  loginFailuresPerIp: number;
  /** Failed logins allowed per username within the window (protects one account from many addresses). */
  loginFailuresPerUser: number;
  loginWindowMs: number;

  // --- requests ----------------------------------------------------------------------------------
  /** Largest audio file accepted by the enrolment upload. */
  uploadMaxBytes: number;
  /** Largest bulk import file (CSV or CWR). */
  importMaxBytes: number;
  /** Page size when none is asked for, and the largest allowed. */
  pageSizeDefault: number;
  pageSizeMax: number;
  /** Rows in one CSV/JSON export (reports); more must be asked for by period or filter. */
  exportMaxRows: number;

  // --- display -------------------------------------------------------------------------------------
  /** Zone in which dates are shown when a thing has no zone of its own (a channel has one). */
  displayTimeZone: string;
  /** A channel's heartbeat older than this: its monitor is not running (matches the monitor's default). */
  heartbeatStaleMs: number;
  /** Window of the uptime percentage on the dashboards. */
  uptimeWindowMs: number;
}

export const API_DEFAULTS: Readonly<ApiConfig> = Object.freeze({
  sessionMaxAgeMs: 12 * 3600_000,
  sessionIdleMs: 2 * 3600_000,
  secureCookies: true,

  scryptN: 2 ** 16,
  scryptR: 8,
  scryptP: 1,
  passwordMinLength: 10,

  loginFailuresPerIp: 20,
  loginFailuresPerUser: 8,
  loginWindowMs: 15 * 60_000,

  uploadMaxBytes: 200 * 1024 ** 2,
  importMaxBytes: 20 * 1024 ** 2,
  pageSizeDefault: 50,
  pageSizeMax: 500,
  exportMaxRows: 100_000,

  displayTimeZone: 'Asia/Almaty',
  heartbeatStaleMs: 30_000,
  uptimeWindowMs: 24 * 3600_000,
});

/** Merges overrides onto the defaults and rejects values that cannot work, naming the setting. */
export function apiConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  const config: ApiConfig = { ...API_DEFAULTS, ...overrides };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value <= 0)) {
      throw new Error(`api config ${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(Math.log2(config.scryptN)) || config.scryptN < 2 ** 10) {
    throw new Error(`api config scryptN must be a power of two of at least 1024, got ${config.scryptN}`);
  }
  if (config.pageSizeDefault > config.pageSizeMax) {
    throw new Error('api config pageSizeDefault must not exceed pageSizeMax');
  }
  return config;
}
