package dev.renewal.order.domain;

import dev.renewal.acme.Text;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.KeyType;
import dev.renewal.events.RenewalRequested;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Decides whether a request can become an order, and puts it in canonical form: names trimmed,
 * lower-cased, IDNs in punycode, duplicates folded (first occurrence wins). Every problem is
 * reported in one detail. Pure: no Kafka, no CA.
 */
public final class RequestValidator {
  /** The request is malformed. */
  public static final String INVALID_REQUEST = "urn:renewal:problem:invalid-request";

  /** The request names a CA profile the operator did not configure. */
  public static final String UNKNOWN_CA_PROFILE = "urn:renewal:problem:unknown-ca-profile";

  /** The request's CSR is unusable or does not match the request. */
  public static final String INVALID_CSR = "urn:renewal:problem:invalid-csr";

  public static final int MAX_NAMES = 100;

  private final Set<String> profiles;

  /**
   * @param profiles the names of the configured CA profiles
   */
  public RequestValidator(Set<String> profiles) {
    this.profiles = Set.copyOf(profiles);
  }

  /** The outcome: a canonical request, or a problem type and detail. */
  public record Outcome(RenewalRequested request, String problemType, String detail) {
    public boolean valid() {
      return problemType == null;
    }
  }

  public Outcome validate(RenewalRequested request, String key) {
    List<String> problems = new ArrayList<>();
    String problemType = INVALID_REQUEST;
    try {
      UUID.fromString(request.getRequestId());
    } catch (IllegalArgumentException e) {
      problems.add("requestId '" + Text.escaped(request.getRequestId()) + "' is not a UUID");
    }
    if (key != null && !key.equals(request.getRequestId())) {
      problems.add(
          "the record key '"
              + Text.escaped(key)
              + "' differs from requestId (the key must be the request id)");
    }
    String certName = request.getCertificateName();
    if (certName == null
        || !certName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        || certName.contains("..")) {
      problems.add(
          "certificateName '"
              + Text.escaped(certName)
              + "' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (request.getChallengeType() == ChallengeType.UNKNOWN) {
      problems.add("challengeType is not one this version knows (HTTP_01, DNS_01)");
    }
    if (request.getCsrPem() == null && request.getKeyType() == KeyType.UNKNOWN) {
      problems.add("keyType is not one this version knows");
    }
    if (request.getAttempt() < 1) {
      problems.add("attempt must be 1 or more");
    }
    LinkedHashSet<String> names = new LinkedHashSet<>();
    for (String raw : request.getDnsNames()) {
      DnsNames.Result result = DnsNames.normalize(raw);
      if (!result.ok()) {
        problems.add(result.error());
        continue;
      }
      if (result.normalized().wildcard() && request.getChallengeType() != ChallengeType.DNS_01) {
        problems.add("'" + raw + "' is a wildcard name, which only DNS_01 can validate");
      }
      names.add(result.normalized().name());
    }
    if (names.isEmpty() && request.getDnsNames().isEmpty()) {
      problems.add("dnsNames is empty: at least one name is required");
    }
    if (names.size() > MAX_NAMES) {
      problems.add("dnsNames has " + names.size() + " distinct names, more than " + MAX_NAMES);
    }
    if (problems.isEmpty() && request.getCsrPem() != null) {
      List<String> csrProblems = checkCsr(request.getCsrPem(), names);
      if (!csrProblems.isEmpty()) {
        problems.addAll(csrProblems);
        problemType = INVALID_CSR;
      }
    }
    if (problems.isEmpty() && !profiles.contains(request.getCaProfile())) {
      return new Outcome(
          null,
          UNKNOWN_CA_PROFILE,
          "CA profile '"
              + Text.escaped(request.getCaProfile())
              + "' is not configured here (configured: "
              + String.join(", ", new TreeSet<>(profiles))
              + ")");
    }
    if (!problems.isEmpty()) {
      return new Outcome(null, problemType, String.join("; ", problems));
    }
    RenewalRequested canonical = RenewalRequested.newBuilder(request).build();
    canonical.setDnsNames(List.copyOf(names));
    return new Outcome(canonical, null, null);
  }

  private static List<String> checkCsr(String pem, Set<String> requested) {
    List<String> problems = new ArrayList<>();
    PKCS10CertificationRequest csr;
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (!(object instanceof PKCS10CertificationRequest c)) {
        return List.of("csrPem is not a PEM CERTIFICATE REQUEST");
      }
      csr = c;
    } catch (IOException | RuntimeException e) {
      return List.of("csrPem cannot be parsed: " + e.getMessage());
    }
    try {
      JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(csr);
      if (!csr.isSignatureValid(
          new JcaContentVerifierProviderBuilder().build(jca.getPublicKey()))) {
        problems.add("the CSR's signature does not verify");
      }
    } catch (OperatorCreationException | PKCSException | java.security.GeneralSecurityException e) {
      problems.add("the CSR's signature cannot be checked: " + e.getMessage());
    }
    Set<String> inCsr = new TreeSet<>();
    for (RDN rdn : csr.getSubject().getRDNs(BCStyle.CN)) {
      addName(inCsr, IETFUtils.valueToString(rdn.getFirst().getValue()), problems);
    }
    for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      Extensions extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
      GeneralNames sans = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
      if (sans == null) {
        continue;
      }
      for (GeneralName san : sans.getNames()) {
        if (san.getTagNo() == GeneralName.dNSName) {
          addName(inCsr, san.getName().toString(), problems);
        } else {
          problems.add("the CSR has a subject alternative name that is not a DNS name: " + san);
        }
      }
    }
    Set<String> missing = new TreeSet<>(requested);
    missing.removeAll(inCsr);
    Set<String> extra = new TreeSet<>(inCsr);
    extra.removeAll(requested);
    if (!missing.isEmpty()) {
      problems.add("the CSR lacks requested names " + missing);
    }
    if (!extra.isEmpty()) {
      problems.add("the CSR has names that were not requested " + extra);
    }
    return problems;
  }

  private static void addName(Set<String> names, String raw, List<String> problems) {
    DnsNames.Result r = DnsNames.normalize(raw);
    if (r.ok()) {
      names.add(r.normalized().name());
    } else {
      problems.add("the CSR names " + r.error());
    }
  }
}
