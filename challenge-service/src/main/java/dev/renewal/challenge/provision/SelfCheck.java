package dev.renewal.challenge.provision;

import dev.renewal.challenge.http01.Http01Responses;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Before a challenge is triggered, asks this instance's own HTTP-01 responder for the token, as
 * cert-manager does, until it answers with the key authorization or the deadline passes. This
 * proves the token went through the shared topic. It first waits (without a thread) until this
 * instance has read the token back from the topic, so that the first HTTP request usually gets the
 * answer: asking at once missed about one time in three under load and cost another request 10 ms
 * later. Asynchronous: nothing waits on a thread.
 */
public final class SelfCheck {
  private final URI base;
  private final Duration timeout;
  private final ScheduledExecutorService scheduler;
  private final Http01Responses responses;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * @param base the responder's URL as seen from here, e.g. {@code http://127.0.0.1:5002}
   * @param responses the tokens this instance has read from the shared topic
   */
  public SelfCheck(
      URI base, Duration timeout, ScheduledExecutorService scheduler, Http01Responses responses) {
    this.base = base;
    this.timeout = timeout;
    this.scheduler = scheduler;
    this.responses = responses;
  }

  /** Completes with true once the responder serves {@code keyAuthorization}, false at timeout. */
  public CompletableFuture<Boolean> await(String token, String keyAuthorization) {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    CompletableFuture<Void> read = responses.whenRead(token, keyAuthorization);
    ScheduledFuture<?> giveUp =
        scheduler.schedule(
            () -> {
              responses.forget(token, read);
              result.complete(false);
            },
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    read.thenRun(
        () -> {
          giveUp.cancel(false);
          Recheck.until(scheduler, deadline, 10, 500, () -> served(token, keyAuthorization))
              .thenAccept(result::complete);
        });
    return result;
  }

  /** Whether the responder answers {@code token} with {@code keyAuthorization} now. */
  private CompletableFuture<Boolean> served(String token, String keyAuthorization) {
    HttpRequest request =
        HttpRequest.newBuilder(base.resolve("/.well-known/acme-challenge/" + token))
            .timeout(Duration.ofSeconds(2))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenApply(
            response -> response.statusCode() == 200 && response.body().equals(keyAuthorization));
  }
}
