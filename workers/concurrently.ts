/**
 * Runs `fn` over `items` with at most `limit` calls in flight. If a call fails, no new calls
 * start, the ones in flight are awaited (so no IONOS write is left unobserved), and the first
 * error is thrown.
 *
 * @example
 * await forEachConcurrently(userIds, 8, (id) => ionos.addGroupMember(groupId, id));
 */
export async function forEachConcurrently<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `Cannot run as 'limit' must be a positive integer: current value is ${limit}`,
    );
  }
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    for (let next = iterator.next(); !next.done && !failure; next = iterator.next()) {
      try {
        await fn(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  if (failure) throw failure.error;
}
