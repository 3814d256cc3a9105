package dev.renewal.finalize.domain;

import dev.renewal.contract.RenewalFailures;
import dev.renewal.events.FinalizeRecord;
import dev.renewal.events.FinalizeState;
import dev.renewal.events.Problem;
import dev.renewal.events.RevocationReason;
import dev.renewal.events.RevocationRequested;
import java.util.Optional;
import java.util.Set;

/**
 * Whether and how a {@link RevocationRequested} is carried out, pure: the pipeline revokes only a
 * certificate it recorded as issued for that request ({@code acme.finalize.records}, state DONE)
 * with that serial, through the profile that issued it; never a URL or a certificate the request
 * brings. {@code KEY_COMPROMISE} is signed with the certificate's own key where the pipeline holds
 * it (RFC 8555 section 7.6 allows either signature), so that the CA learns the key is out.
 */
public final class RevocationStep {
  /** The request names no certificate this pipeline issued (or not that one). */
  public static final String UNKNOWN_CERTIFICATE = "urn:renewal:problem:unknown-certificate";

  /** The reason is not one a subscriber may give (or unknown to this reader). */
  public static final String BAD_REASON = "urn:renewal:problem:bad-revocation-reason";

  /** A field the revocation needs is empty. */
  public static final String MALFORMED = "urn:renewal:problem:malformed-revocation";

  /** The profile that issued the certificate is not configured here. */
  public static final String UNKNOWN_PROFILE = "urn:renewal:problem:unknown-ca-profile";

  private RevocationStep() {}

  /** What to do. */
  public sealed interface Action permits Refuse, Revoke {}

  /** Refuse with {@code problem}: nothing is sent to the CA. */
  public record Refuse(Problem problem, Optional<String> caProfile) implements Action {}

  /**
   * Revoke the certificate {@code leafPem} recorded at its issuance (else the one the CA serves for
   * {@code orderUrl}, if its serial is the one named), through {@code caProfile}, signed with the
   * key of {@code certificateKeyRef} when present, else with the account.
   */
  public record Revoke(
      String caProfile,
      String orderUrl,
      Optional<String> leafPem,
      Optional<String> certificateKeyRef)
      implements Action {}

  /**
   * The action for {@code request}, given the record of its request id ({@code record}, empty when
   * there is none) and the profiles configured here.
   */
  public static Action decide(
      RevocationRequested request, Optional<FinalizeRecord> record, Set<String> profiles) {
    if (blank(request.getRequestId()) || blank(request.getSerialNumber())) {
      return refuse(MALFORMED, "a revocation needs a request id and a serial number", null);
    }
    if (request.getReason() == RevocationReason.UNKNOWN) {
      return refuse(
          BAD_REASON,
          "the reason is not one of unspecified, keyCompromise, affiliationChanged, superseded,"
              + " cessationOfOperation",
          null);
    }
    Optional<String> problem = notIssued(request, record);
    if (problem.isPresent()) {
      return refuse(UNKNOWN_CERTIFICATE, problem.get(), null);
    }
    FinalizeRecord r = record.orElseThrow();
    String profile = r.getReady().getPlaced().getRequest().getCaProfile();
    if (!profiles.contains(profile)) {
      return refuse(
          UNKNOWN_PROFILE,
          "CA profile '" + profile + "', which issued it, is not configured in finalize-service",
          profile);
    }
    Optional<String> keyRef =
        request.getReason() == RevocationReason.KEY_COMPROMISE
            ? Optional.ofNullable(r.getKeyRef())
            : Optional.empty();
    return new Revoke(profile, r.getOrderUrl(), Optional.ofNullable(r.getLeafPem()), keyRef);
  }

  /**
   * Why {@code record} is not the certificate {@code request} names, or empty when it is. A miss
   * may be a record written after this instance loaded its records: the caller reads them again
   * once before refusing.
   */
  public static Optional<String> notIssued(
      RevocationRequested request, Optional<FinalizeRecord> record) {
    String id = request.getRequestId();
    if (record.isEmpty() || record.get().getState() != FinalizeState.DONE) {
      return Optional.of("request " + id + " has no certificate issued by this pipeline");
    }
    FinalizeRecord r = record.get();
    String name = r.getReady().getPlaced().getRequest().getCertificateName();
    if (!name.equals(request.getCertificateName())) {
      return Optional.of(
          "request "
              + id
              + " issued certificate '"
              + name
              + "', not '"
              + request.getCertificateName()
              + "'");
    }
    if (r.getSerialNumber() != null && !r.getSerialNumber().equals(request.getSerialNumber())) {
      return Optional.of(notThisSerial(request, r.getSerialNumber()));
    }
    return Optional.empty();
  }

  /** The detail when the CA's certificate of the order has another serial than the one named. */
  public static String notThisSerial(RevocationRequested request, String actual) {
    return "serial "
        + request.getSerialNumber()
        + " is not the certificate of request "
        + request.getRequestId()
        + (actual == null ? "" : " (its certificate is serial " + actual + ")");
  }

  private static Refuse refuse(String type, String detail, String profile) {
    return new Refuse(RenewalFailures.problem(type, detail), Optional.ofNullable(profile));
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
