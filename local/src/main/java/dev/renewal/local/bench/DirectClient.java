package dev.renewal.local.bench;

import dev.renewal.acme.AccountStore;
import dev.renewal.acme.AcmeSessions;
import dev.renewal.acme.CaProfile;
import dev.renewal.challenge.http01.Http01Responder;
import java.io.IOException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * The ceiling the pipeline is measured against: a plain acme4j client in this JVM, the way a
 * careful hand-written client would do it. One Session per thread (acme4j serialises a Session's
 * requests), one account, HTTP-01 from an in-memory responder, polling by fetch-and-reschedule (10
 * ms doubling to 320 ms, or the CA's Retry-After), an EC P-256 key per certificate, the chain
 * downloaded. Its threads sleep while they wait: it is the baseline, not the pipeline.
 */
public final class DirectClient implements AutoCloseable {
  private static final Duration FIRST_POLL = Duration.ofMillis(10);
  private static final Duration MAX_POLL = Duration.ofMillis(320);
  private static final Duration DEADLINE = Duration.ofMinutes(2);

  /** One certificate's outcome: how long it took from the first request to the chain in hand. */
  public record Result(String name, long startedNanos, long endedNanos, String error) {
    public Duration latency() {
      return Duration.ofNanos(endedNanos - startedNanos);
    }
  }

  private final CaProfile profile;
  private final AccountStore accounts;
  private final AcmeSessions sessions = new AcmeSessions();
  private final Map<String, String> tokens = new ConcurrentHashMap<>();
  private final Http01Responder responder;

  /** Serves HTTP-01 on {@code 127.0.0.1:httpPort} (Pebble's validation port) until closed. */
  public DirectClient(CaProfile profile, AccountStore accounts, int httpPort) throws IOException {
    this.profile = profile;
    this.accounts = accounts;
    this.responder =
        Http01Responder.start("127.0.0.1", httpPort, t -> Optional.ofNullable(tokens.get(t)));
  }

  /** Issues one certificate per name with {@code threads} threads; every outcome, in order done. */
  public List<Result> run(List<String> names, int threads) throws InterruptedException {
    return run(names, threads, r -> {});
  }

  /** The same, telling {@code each} of every outcome as it comes. */
  public List<Result> run(List<String> names, int threads, java.util.function.Consumer<Result> each)
      throws InterruptedException {
    ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(names);
    List<Result> results = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> workers = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      workers.add(
          pool.submit(
              () -> {
                String name;
                while ((name = queue.poll()) != null) {
                  Result result = issue(name);
                  results.add(result);
                  each.accept(result);
                }
              }));
    }
    pool.shutdown();
    for (Future<?> w : workers) {
      try {
        w.get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("a direct-client worker died", e.getCause());
      }
    }
    return List.copyOf(results);
  }

  private Result issue(String name) {
    long started = System.nanoTime();
    try {
      Login login = accounts.login(profile, sessions.session(profile));
      Order order = login.newOrder().domains(name).create();
      for (Authorization auth : order.getAuthorizations()) {
        if (auth.getStatus() == Status.VALID) {
          continue;
        }
        Http01Challenge challenge = auth.findChallenge(Http01Challenge.class).orElseThrow();
        tokens.put(challenge.getToken(), challenge.getAuthorization());
        try {
          challenge.trigger();
          await(auth::fetch, auth::getStatus, "authorization of " + name);
        } finally {
          tokens.remove(challenge.getToken());
        }
      }
      KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
      await(order::fetch, order::getStatus, "order of " + name, Status.READY);
      order.execute(key);
      await(order::fetch, order::getStatus, "order of " + name);
      order.getCertificate().download();
      if (order.getCertificate().getCertificateChain().isEmpty()) {
        throw new IllegalStateException("empty chain for " + name);
      }
      return new Result(name, started, System.nanoTime(), null);
    } catch (Exception e) {
      return new Result(name, started, System.nanoTime(), e.toString());
    }
  }

  private interface Fetch {
    Optional<java.time.Instant> fetch() throws AcmeException;
  }

  private interface StatusOf {
    Status get();
  }

  /** Fetches until the status is valid (or {@code until}); sleeps between fetches. */
  private static void await(Fetch fetch, StatusOf status, String what, Status... until)
      throws AcmeException, InterruptedException {
    List<Status> done = until.length == 0 ? List.of(Status.VALID) : List.of(until);
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    Duration next = FIRST_POLL;
    while (true) {
      Optional<java.time.Instant> retryAfter = fetch.fetch();
      Status s = status.get();
      if (done.contains(s) || s == Status.VALID) {
        return;
      }
      if (s == Status.INVALID) {
        throw new IllegalStateException(what + " is invalid");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + " still " + s + " after " + DEADLINE);
      }
      Duration wait = next;
      if (retryAfter.isPresent()) {
        Duration told = Duration.between(java.time.Instant.now(), retryAfter.get());
        wait = told.isNegative() ? Duration.ZERO : told;
      }
      Thread.sleep(wait.toMillis());
      next = next.multipliedBy(2).compareTo(MAX_POLL) > 0 ? MAX_POLL : next.multipliedBy(2);
    }
  }

  @Override
  public void close() {
    responder.close();
  }
}
