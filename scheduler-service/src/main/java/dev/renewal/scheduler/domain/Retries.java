package dev.renewal.scheduler.domain;

import dev.renewal.events.AttemptOutcome;
import dev.renewal.events.DueReason;
import dev.renewal.events.RenewalAttempt;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * When, and on which CA profile, a failing certificate is tried again: pure functions of its
 * attempts, its certificate and the policies of its profiles.
 *
 * <ul>
 *   <li>Only a retryable failure is retried (RenewalFailed.retryable: rate limits, outages,
 *       timeouts). One about the request itself (rejectedIdentifier, a validation that failed,
 *       badCSR) waits for an operator: another try, or another CA, would be refused too.
 *   <li>The back-off doubles from {@code renewal.retry.initial} to {@code renewal.retry.max} over a
 *       series of failures (cert-manager's 1 h to 32 h); an attempt the scheduler did not make (a
 *       lifetime or ARI renewal, {@code renewal renew}, {@code renewal replay}) starts a new
 *       series. Up to a tenth earlier by a jitter the same for an attempt everywhere.
 *   <li>Within {@code renewal.urgent} of the expiry the back-off is at most an hour, and a longer
 *       one never runs into that period: the retry comes when it starts. A certificate not issued
 *       yet is as urgent as one about to expire.
 *   <li>A Retry-After the CA gave is honoured (the retry comes no earlier), unless it lies past the
 *       urgent period's start: then the next profile is tried at once.
 *   <li>The retry goes to the next profile of the chain (the request's profile, then its {@code
 *       fallback} list, round again) when the CA was unavailable (network, 5xx, serverInternal
 *       after the call's own retries), when its Retry-After lies past the urgent period, or after
 *       {@code fallback.after} consecutive retryable failures on the same profile: at once to a
 *       profile the series has not tried, after the back-off when coming round again. The next
 *       regular renewal starts from the request's profile again.
 * </ul>
 */
public final class Retries {
  /** The longest back-off within the urgent period, and for a certificate not issued yet. */
  static final Duration URGENT_CAP = Duration.ofHours(1);

  /** The default urgent period's bound (with a tenth of the lifetime). */
  static final Duration URGENT = Duration.ofDays(7);

  /** The jitter's bound, as a share of the back-off. */
  static final double JITTER = 0.1;

  private Retries() {}

  /**
   * A retry: at {@code at}, on {@code caProfile}, RETRY or FALLBACK (then {@code fallbackFrom} is
   * the profile that failed).
   */
  public record Retry(Instant at, String caProfile, DueReason reason, String fallbackFrom) {}

  /** The back-off after the {@code n}-th failure of a series (n ≥ 1). */
  public static Duration backoff(int n, Duration initial, Duration max) {
    Duration d = initial;
    for (int i = 1; i < n && d.compareTo(max) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(max) > 0 ? max : d;
  }

  /** {@code d} up to {@link #JITTER} shorter, by a share that only {@code seed} gives. */
  static Duration jittered(Duration d, String seed) {
    return d.minusMillis(Math.round(d.toMillis() * JITTER * RenewalTime.fraction(seed)));
  }

  /** How long before {@code notAfter} a certificate is urgent. */
  public static Duration urgent(
      Optional<Duration> configured, Instant notBefore, Instant notAfter) {
    if (configured.isPresent()) {
      return configured.get();
    }
    Duration tenth = Duration.between(notBefore, notAfter).dividedBy(10);
    return tenth.compareTo(URGENT) < 0 ? tenth : URGENT;
  }

  /** Whether a failure says that the CA itself was unavailable (not the request, not a limit). */
  public static boolean caUnavailable(String problemType, Integer status) {
    if (problemType == null) {
      return false;
    }
    return problemType.equals("urn:renewal:problem:network")
        || problemType.equals("urn:renewal:problem:protocol")
        || problemType.endsWith(":serverInternal")
        || (status != null && status >= 500);
  }

  /** The profiles in the order they are tried: {@code primary}, then its fallbacks, each once. */
  public static List<String> chain(String primary, Function<String, RenewalPolicy> policies) {
    List<String> chain = new ArrayList<>();
    chain.add(primary);
    for (String p : policies.apply(primary).fallbacks()) {
      if (!chain.contains(p)) {
        chain.add(p);
      }
    }
    return chain;
  }

  /**
   * The retry after the latest of {@code attempts} (oldest first) failed; empty when it did not
   * fail or is not to be retried.
   *
   * @param name the certificate's name (for the jitter)
   * @param primary the request's CA profile
   * @param notBefore the current certificate's start, null when none was issued yet
   * @param notAfter its expiry, null when none was issued yet
   */
  public static Optional<Retry> next(
      String name,
      List<RenewalAttempt> attempts,
      String primary,
      Instant notBefore,
      Instant notAfter,
      Function<String, RenewalPolicy> policies) {
    if (attempts.isEmpty()) {
      return Optional.empty();
    }
    RenewalAttempt last = attempts.get(attempts.size() - 1);
    if (last.getOutcome() != AttemptOutcome.FAILED
        || !last.getRetryable()
        || last.getOutcomeAt() == null) {
      return Optional.empty();
    }
    String failedOn = profileOf(last, primary);
    // The request's profile governs: its back-off, its urgency, its chain and when to move on.
    RenewalPolicy policy = policies.apply(primary);
    Instant failedAt = last.getOutcomeAt();
    int series = series(attempts);
    Duration delay =
        jittered(
            backoff(series, policy.retryInitial(), policy.retryMax()),
            name + ":" + last.getRequestId() + ":" + last.getAttempt());
    Instant urgentFrom =
        notAfter == null ? null : notAfter.minus(urgent(policy.urgent(), notBefore, notAfter));
    Instant at;
    if (urgentFrom == null || !failedAt.isBefore(urgentFrom)) {
      at = failedAt.plus(delay.compareTo(URGENT_CAP) > 0 ? URGENT_CAP : delay);
    } else {
      at = failedAt.plus(delay);
      if (at.isAfter(urgentFrom)) {
        at = urgentFrom;
      }
    }
    boolean waitTooLong =
        last.getRetryAfter() != null
            && last.getRetryAfter().isAfter(urgentFrom == null ? failedAt : urgentFrom);
    List<String> chain = chain(primary, policies);
    int sameProfile = 0;
    for (int i = attempts.size() - 1; i >= 0; i--) {
      RenewalAttempt a = attempts.get(i);
      if (a.getOutcome() != AttemptOutcome.FAILED
          || !a.getRetryable()
          || !profileOf(a, primary).equals(failedOn)) {
        break;
      }
      sameProfile++;
    }
    boolean fallBack =
        chain.size() > 1
            && (last.getCaUnavailable() || waitTooLong || sameProfile >= policy.fallbackAfter());
    if (fallBack) {
      int i = chain.indexOf(failedOn);
      String next = chain.get((i + 1) % chain.size());
      // A profile this series has not tried yet is tried at once; coming round again, after the
      // back-off, so that CAs that are all down are not asked in a loop.
      boolean tried =
          attempts.subList(attempts.size() - series, attempts.size()).stream()
              .anyMatch(a -> next.equals(profileOf(a, primary)));
      return Optional.of(new Retry(tried ? at : failedAt, next, DueReason.FALLBACK, failedOn));
    }
    if (last.getRetryAfter() != null && last.getRetryAfter().isAfter(at)) {
      at = last.getRetryAfter();
    }
    return Optional.of(new Retry(at, failedOn, DueReason.RETRY, null));
  }

  /** The profile attempt {@code a} went to; {@code primary} for one recorded without it. */
  public static String profileOf(RenewalAttempt a, String primary) {
    return a.getCaProfile() == null ? primary : a.getCaProfile();
  }

  /**
   * The failures of the current series, counting back from the latest attempt: failed attempts, up
   * to and including the first one the scheduler did not make as a retry.
   */
  static int series(List<RenewalAttempt> attempts) {
    int n = 0;
    for (int i = attempts.size() - 1; i >= 0; i--) {
      RenewalAttempt a = attempts.get(i);
      if (a.getOutcome() != AttemptOutcome.FAILED) {
        break;
      }
      n++;
      if (a.getDueReason() != DueReason.RETRY && a.getDueReason() != DueReason.FALLBACK) {
        break;
      }
    }
    return Math.max(1, n);
  }
}
