/**
 * A strong random password for new IONOS users. They sign in through federation, so nobody ever
 * needs it: it is generated, sent once, and never logged or stored.
 */
const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@_";
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

function pick(alphabet: string): string {
  // Rejection sampling keeps the choice uniform.
  const limit = 256 - (256 % alphabet.length);
  const buf = new Uint8Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0]! < limit) return alphabet[buf[0]! % alphabet.length]!;
  }
}

/** 32 characters with at least one of each class, to satisfy stricter contract policies. */
export function generatePassword(length = 32): string {
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = Number(crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1));
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}
