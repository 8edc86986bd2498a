// placeholder until the checksum binding lands
export function activeChecksumPath(): string {
  return 'unknown';
}
