import { spawn } from 'node:child_process';

/** Runs a program, feeding `input` to its stdin, and returns its stdout; a non-zero exit is an error with stderr. */
export function runProgram(program: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`${program} could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else {
        const msg = Buffer.concat(err).toString().trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${program} ${args.join(' ')} failed (exit ${code}): ${msg}`));
      }
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function floatsToBuffer(pcm: Float32Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

export function bufferToFloats(buf: Buffer): Float32Array {
  const copy = new Float32Array(buf.byteLength >>> 2);
  new Uint8Array(copy.buffer).set(buf.subarray(0, copy.byteLength));
  return copy;
}
