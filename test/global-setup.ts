import { execFileSync } from 'node:child_process';

// Tests run real audio through the real decoder: make sure ffmpeg, sox and espeak-ng exist.
export default function setup(): void {
  execFileSync('bash', ['scripts/setup-system.sh'], { stdio: 'inherit' });
}
