package dev.renewal.challenge.http01;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP-01 key authorizations by token as this instance has read them from the shared topic, and who
 * waits for which one to be read. Written by the topic's reader thread, read by the responder's and
 * the self-check's threads.
 *
 * <p>A waiter is added and removed only inside the waiters map's per-key compute, so a reader that
 * wakes the waiters of a token and a caller that registers one cannot lose it between them (until
 * 2026-11-27 a registration could add to a list that a concurrent wake had just dropped from the
 * map; two of 10,000 self-checks of a scale run then waited out their timeout). Whoever registers
 * checks the value afterwards, and the reader checks the waiters after storing the value, so one of
 * the two always sees the other.
 */
final class KeyAuthorizations {
  private final Map<String, String> byToken = new ConcurrentHashMap<>();
  private final Map<String, List<Waiter>> waiters = new ConcurrentHashMap<>();

  private record Waiter(String keyAuthorization, CompletableFuture<Void> read) {}

  /** The key authorization read for {@code token}, if any. */
  Optional<String> get(String token) {
    return Optional.ofNullable(byToken.get(token));
  }

  /** {@code token} was read with {@code keyAuthorization}: store it, wake who waits for it. */
  void put(String token, String keyAuthorization) {
    byToken.put(token, keyAuthorization);
    wake(token);
  }

  /** {@code token} was removed (a tombstone). */
  void remove(String token) {
    byToken.remove(token);
  }

  /** Completes once {@code keyAuthorization} has been read for {@code token}; at once if it has. */
  CompletableFuture<Void> whenRead(String token, String keyAuthorization) {
    CompletableFuture<Void> read = new CompletableFuture<>();
    Waiter waiter = new Waiter(keyAuthorization, read);
    waiters.compute(
        token,
        (t, list) -> {
          List<Waiter> l = list == null ? new ArrayList<>() : list;
          l.add(waiter);
          return l;
        });
    wake(token);
    return read;
  }

  /** Stops waiting for {@code read}, e.g. after a timeout. */
  void forget(String token, CompletableFuture<Void> read) {
    waiters.computeIfPresent(
        token,
        (t, list) -> {
          list.removeIf(w -> w.read() == read);
          return list.isEmpty() ? null : list;
        });
  }

  /** How many waiters are registered (a gauge: a number that only grows is a leak). */
  int waiting() {
    return waiters.values().stream().mapToInt(List::size).sum();
  }

  private void wake(String token) {
    String value = byToken.get(token);
    if (value == null || !waiters.containsKey(token)) {
      return;
    }
    List<Waiter> woken = new ArrayList<>();
    waiters.computeIfPresent(
        token,
        (t, list) -> {
          for (Waiter w : list) {
            if (w.keyAuthorization().equals(value)) {
              woken.add(w);
            }
          }
          list.removeAll(woken);
          return list.isEmpty() ? null : list;
        });
    // Completed outside the map's lock: what depends on them runs on this thread.
    woken.forEach(w -> w.read().complete(null));
  }
}
