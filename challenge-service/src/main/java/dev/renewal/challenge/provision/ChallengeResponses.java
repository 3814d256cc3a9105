package dev.renewal.challenge.provision;

import dev.renewal.acme.Text;
import dev.renewal.challenge.dns.DnsProvider;
import dev.renewal.challenge.dns.TxtLookup;
import dev.renewal.challenge.domain.ChallengeView;
import dev.renewal.challenge.http01.Http01Responses;
import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.AuthorizationWork;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.Problem;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The responses of this service: HTTP-01 key authorizations through the shared compacted topic
 * (every instance serves every token), checked with the {@link SelfCheck}; DNS-01 TXT values
 * through the configured {@link DnsProvider}, then asked of the resolver until visible. DNS calls
 * block, so they run on {@code dnsWorkers}; waiting is scheduled on {@code scheduler}.
 */
public final class ChallengeResponses implements Provisioner {
  private static final Logger LOGGER = LoggerFactory.getLogger(ChallengeResponses.class);

  /** Problem type: our own responder did not serve the token in time. */
  public static final String SELF_CHECK_FAILED = "urn:renewal:problem:self-check-failed";

  /** Problem type: the HTTP-01 key authorization could not be written to the shared topic. */
  public static final String HTTP01_PUBLISH_FAILED = "urn:renewal:problem:http01-publish";

  /** Problem type: the DNS-01 record did not become visible in time, or could not be written. */
  public static final String DNS_FAILED = "urn:renewal:problem:dns";

  private final Http01Responses http01;
  private final SelfCheck selfCheck;
  private final DnsProvider dns;
  private final Optional<TxtLookup> txtLookup;
  private final Duration dnsPropagationTimeout;
  private final ExecutorService dnsWorkers;
  private final ScheduledExecutorService scheduler;

  public ChallengeResponses(
      Http01Responses http01,
      SelfCheck selfCheck,
      DnsProvider dns,
      Optional<TxtLookup> txtLookup,
      Duration dnsPropagationTimeout,
      ExecutorService dnsWorkers,
      ScheduledExecutorService scheduler) {
    this.http01 = http01;
    this.selfCheck = selfCheck;
    this.dns = dns;
    this.txtLookup = txtLookup;
    this.dnsPropagationTimeout = dnsPropagationTimeout;
    this.dnsWorkers = dnsWorkers;
    this.scheduler = scheduler;
  }

  @Override
  public CompletableFuture<Optional<Problem>> provision(
      ChallengeType type, ChallengeView challenge) {
    if (type == ChallengeType.DNS_01) {
      String name = challenge.recordName().orElseThrow();
      return CompletableFuture.runAsync(() -> dns.present(name, challenge.response()), dnsWorkers)
          .thenCompose(v -> awaitTxt(name, challenge.response()))
          .exceptionally(
              e ->
                  Optional.of(
                      RenewalFailures.problem(
                          DNS_FAILED,
                          "the TXT record "
                              + Text.escaped(name)
                              + " could not be written: "
                              + Text.escaped(cause(e).toString()))));
    }
    return http01
        .publish(challenge.token(), challenge.response())
        .handle(
            (v, e) ->
                e == null
                    ? selfCheck(challenge)
                    : CompletableFuture.completedFuture(
                        Optional.of(
                            RenewalFailures.problem(
                                HTTP01_PUBLISH_FAILED,
                                "the key authorization could not be published to the shared"
                                    + " topic: "
                                    + Text.escaped(cause(e).toString())))))
        .thenCompose(f -> f);
  }

  private CompletableFuture<Optional<Problem>> selfCheck(ChallengeView challenge) {
    return selfCheck
        .await(challenge.token(), challenge.response())
        .thenApply(
            ok ->
                ok
                    ? Optional.empty()
                    : Optional.of(
                        RenewalFailures.problem(
                            SELF_CHECK_FAILED,
                            "this instance's HTTP-01 responder did not serve token "
                                + challenge.token()
                                + " within the self-check timeout")));
  }

  private static Throwable cause(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  @Override
  public CompletableFuture<Void> remove(AuthorizationWork work) {
    CompletableFuture<Void> removed = CompletableFuture.completedFuture(null);
    if (work.getToken() != null) {
      removed = http01.remove(work.getToken());
    } else if (work.getTxtName() != null) {
      removed =
          CompletableFuture.runAsync(
              () -> dns.cleanup(work.getTxtName(), work.getTxtValue()), dnsWorkers);
    }
    return removed.exceptionally(
        e -> {
          LOGGER.warn(
              "removing the challenge response failed (left behind): authorization={} error={}",
              work.getAuthorizationUrl(),
              e.toString());
          return null;
        });
  }

  private CompletableFuture<Optional<Problem>> awaitTxt(String name, String value) {
    if (txtLookup.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return Recheck.until(
            scheduler,
            System.nanoTime() + dnsPropagationTimeout.toNanos(),
            50,
            2000,
            () ->
                CompletableFuture.supplyAsync(
                    () -> txtLookup.get().values(name).contains(value), dnsWorkers))
        .thenApply(
            seen ->
                seen
                    ? Optional.empty()
                    : Optional.of(
                        RenewalFailures.problem(
                            DNS_FAILED,
                            "TXT record "
                                + name
                                + " not visible within "
                                + dnsPropagationTimeout)));
  }
}
