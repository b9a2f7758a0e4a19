'use strict';
// The Patron binary as a child process: the admin CLI and `patron serve`.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const path = require('node:path');

const PATRON_BIN = process.env.PATRON_BIN || path.resolve(__dirname, '../target/debug/patron');
const STARTUP_TIMEOUT_MS = 30_000;

/** Runs one CLI command with `env`; returns { stdout, stderr }, rejects when it fails. */
function runCli(env, args) {
  return new Promise((resolve, reject) => {
    execFile(PATRON_BIN, args, { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message = `patron ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr || err.message}`;
        reject(err);
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** Runs a `--json` CLI command; its stdout must be exactly one JSON object. */
async function runCliJson(env, args) {
  const { stdout } = await runCli(env, args);
  let value;
  try {
    value = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`patron ${args.join(' ')}: stdout is not one JSON document: ${JSON.stringify(stdout)}`);
  }
  assert.equal(typeof value, 'object', `patron ${args.join(' ')}: expected a JSON object`);
  assert.ok(value !== null && !Array.isArray(value), `patron ${args.join(' ')}: expected a JSON object`);
  return value;
}

/**
 * Starts `patron serve` on an ephemeral loopback port; resolves once it prints its
 * `listening on` line, with { proc, base, stdout, stderr (tail), exit, exited }.
 */
function startServe(env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PATRON_BIN, ['serve', '--listen', '127.0.0.1:0'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const state = { proc, stdout: '', stderr: '', exit: null };
    state.exited = new Promise((res) => {
      proc.on('exit', (code, signal) => {
        state.exit = { code, signal };
        res(state.exit);
      });
    });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      // Keep only the tail: enough to explain a failure.
      state.stderr = (state.stderr + chunk).slice(-20_000);
    });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill('SIGKILL');
      reject(new Error(`patron serve printed no 'listening on' line within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${state.stderr}`));
    }, STARTUP_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      state.stdout += chunk;
      if (settled) return;
      const nl = state.stdout.indexOf('\n');
      if (nl < 0) return;
      const line = state.stdout.slice(0, nl);
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      settled = true;
      clearTimeout(timer);
      if (!m) {
        proc.kill('SIGKILL');
        reject(new Error(`unexpected first stdout line from patron serve: ${JSON.stringify(line)}`));
        return;
      }
      state.base = m[1];
      resolve(state);
    });
    proc.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot start ${PATRON_BIN}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`patron serve exited early (${code ?? signal}); stderr:\n${state.stderr}`));
    });
  });
}

module.exports = { PATRON_BIN, runCli, runCliJson, startServe };
