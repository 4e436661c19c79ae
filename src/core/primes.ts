// Primality by trial division: enough for the sizes configuration carries (a Maglev table is at
// most a few million entries, so at most ~1,100 odd divisors are tried).

export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
