package dev.renewal.order.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.AcmeSessions;
import dev.renewal.events.ChallengeType;
import dev.renewal.events.KeyType;
import dev.renewal.events.RenewalRequested;
import java.io.IOException;
import java.io.StringWriter;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.shredzone.acme4j.util.CSRBuilder;
import org.shredzone.acme4j.util.KeyPairUtils;

/** A table of requests and the exact outcome of each. */
class RequestValidatorTest {
  static final String ID = "0d9f3c2e-8a8b-4b8e-9d7c-0f1e2d3c4b5a";
  private final RequestValidator validator = new RequestValidator(Set.of("pebble", "letsencrypt"));

  static RenewalRequested.Builder base() {
    return RenewalRequested.newBuilder()
        .setEventId("e")
        .setRequestId(ID)
        .setOccurredAt(Instant.EPOCH)
        .setCertificateName("shop")
        .setDnsNames(List.of("shop.example"))
        .setCaProfile("pebble");
  }

  static RenewalRequested with(Consumer<RenewalRequested.Builder> change) {
    RenewalRequested.Builder b = base();
    change.accept(b);
    return b.build();
  }

  static Stream<Arguments> invalid() {
    List<String> tooMany = new ArrayList<>();
    for (int i = 0; i < 101; i++) {
      tooMany.add("n" + i + ".example");
    }
    return Stream.of(
        Arguments.of("no names", with(b -> b.setDnsNames(List.of())), "dnsNames is empty"),
        Arguments.of(
            "101 names", with(b -> b.setDnsNames(tooMany)), "101 distinct names, more than 100"),
        Arguments.of(
            "label of 64",
            with(b -> b.setDnsNames(List.of("a".repeat(64) + ".example"))),
            "longer than 63"),
        Arguments.of(
            "name of 254",
            with(b -> b.setDnsNames(List.of(("a".repeat(62) + ".").repeat(4) + "example"))),
            "longer than 253"),
        Arguments.of(
            "underscore",
            with(b -> b.setDnsNames(List.of("a_b.example"))),
            "has a character that is not a letter, digit or '-': '_'"),
        Arguments.of(
            "space",
            with(b -> b.setDnsNames(List.of("a b.example"))),
            "not a letter, digit or '-'"),
        Arguments.of(
            "leading hyphen",
            with(b -> b.setDnsNames(List.of("-shop.example"))),
            "starts or ends with '-'"),
        Arguments.of(
            "trailing hyphen",
            with(b -> b.setDnsNames(List.of("shop-.example"))),
            "starts or ends with '-'"),
        Arguments.of("IPv4", with(b -> b.setDnsNames(List.of("192.0.2.1"))), "IP address"),
        Arguments.of(
            "IPv6",
            with(b -> b.setDnsNames(List.of("2001:db8::1"))),
            "'2001:db8::1' is an IP address"),
        Arguments.of(
            "invalid IDN",
            with(b -> b.setDnsNames(List.of("b\u00fc\u0000cher.example"))),
            "not a valid DNS name"),
        Arguments.of(
            "single label", with(b -> b.setDnsNames(List.of("localhost"))), "single label"),
        Arguments.of(
            "zero-width space",
            with(b -> b.setDnsNames(List.of("ex\u200bample.com"))),
            "'ex\\u200bample.com' is not a valid DNS name: it contains the invisible character"
                + " U+200B (ZERO WIDTH SPACE)"),
        Arguments.of(
            "right-to-left override",
            with(b -> b.setDnsNames(List.of("shop\u202egro.example"))),
            "invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        Arguments.of(
            "newline, as in a log forging attempt",
            with(b -> b.setDnsNames(List.of("a.example\nX-Injected: 1"))),
            "'a.example\\nX-Injected: 1' is not a valid DNS name: it contains the control"
                + " character U+000A (LINE FEED (LF))"),
        Arguments.of(
            "NUL",
            with(b -> b.setDnsNames(List.of("a\u0000.example"))),
            "'a\\u0000.example' is not a valid DNS name: it contains the control character"
                + " U+0000 (NULL)"),
        Arguments.of(
            "an A-label that does not decode",
            with(b -> b.setDnsNames(List.of("xn--a-ecp.example.xn--zz"))),
            "has an A-label that does not decode to a valid name: 'xn--a-ecp'"),
        Arguments.of(
            "a URL",
            with(b -> b.setDnsNames(List.of("https://evil.example/dir"))),
            "'https://evil.example/dir' is a URL: give the host name only"),
        Arguments.of(
            "a port",
            with(b -> b.setDnsNames(List.of("example.com:443"))),
            "'example.com:443' has a port (':443'): give the host name only"),
        Arguments.of(
            "a path",
            with(b -> b.setDnsNames(List.of("example.com/x"))),
            "'example.com/x' contains '/': give the host name only, without a path"),
        Arguments.of(
            "a user",
            with(b -> b.setDnsNames(List.of("me@example.com"))),
            "'me@example.com' contains '@'"),
        Arguments.of("empty label", with(b -> b.setDnsNames(List.of("a..example"))), "empty label"),
        Arguments.of(
            "wildcard with HTTP-01",
            with(b -> b.setDnsNames(List.of("*.shop.example"))),
            "'*.shop.example' is a wildcard name, which only DNS_01 can validate"),
        Arguments.of(
            "wildcard not first",
            with(b -> b.setDnsNames(List.of("a.*.example")).setChallengeType(ChallengeType.DNS_01)),
            "'*' is allowed only as the whole first label"),
        Arguments.of(
            "request id not a UUID",
            with(b -> b.setRequestId("42")),
            "requestId '42' is not a UUID"),
        Arguments.of(
            "certificate name with a slash",
            with(b -> b.setCertificateName("../etc")),
            "certificateName '../etc' must be"),
        Arguments.of(
            "unknown challenge type",
            with(b -> b.setChallengeType(ChallengeType.UNKNOWN)),
            "challengeType is not one this version knows"),
        Arguments.of("attempt 0", with(b -> b.setAttempt(0)), "attempt must be 1 or more"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalidRequestsAreRejectedWithAPreciseDetail(
      String name, RenewalRequested request, String detail) {
    RequestValidator.Outcome outcome = validator.validate(request, ID);
    assertThat(outcome.valid()).isFalse();
    assertThat(outcome.problemType()).isEqualTo(RequestValidator.INVALID_REQUEST);
    assertThat(outcome.detail()).contains(detail);
  }

  @Test
  void namesAreTrimmedLowerCasedFoldedAndPunycoded() {
    RequestValidator.Outcome outcome =
        validator.validate(
            with(
                b ->
                    b.setDnsNames(
                        List.of(
                            " Shop.Example. ",
                            "shop.example",
                            "bücher.example",
                            "xn--bcher-kva.example",
                            "WWW.shop.example"))),
            ID);
    assertThat(outcome.valid()).as(outcome.detail()).isTrue();
    assertThat(outcome.request().getDnsNames())
        .containsExactly("shop.example", "xn--bcher-kva.example", "www.shop.example");
  }

  @Test
  void anALabelThatRoundTripsIsAccepted() {
    DnsNames.Result r = DnsNames.normalize("XN--BCHER-KVA.example");
    assertThat(r.ok()).as(String.valueOf(r.error())).isTrue();
    assertThat(r.normalized().name()).isEqualTo("xn--bcher-kva.example");
  }

  @Test
  void aWildcardIsAcceptedWithDns01() {
    RequestValidator.Outcome outcome =
        validator.validate(
            with(
                b ->
                    b.setDnsNames(List.of("*.shop.example", "shop.example"))
                        .setChallengeType(ChallengeType.DNS_01)),
            ID);
    assertThat(outcome.valid()).isTrue();
    assertThat(outcome.request().getDnsNames()).containsExactly("*.shop.example", "shop.example");
  }

  @Test
  void exactlyOneHundredNamesAreAccepted() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      names.add("n" + i + ".example");
    }
    assertThat(validator.validate(with(b -> b.setDnsNames(names)), ID).valid()).isTrue();
  }

  @Test
  void duplicatesFoldedUnderTheLimitAreAccepted() {
    List<String> names = new ArrayList<>(Collections.nCopies(150, "same.example"));
    assertThat(validator.validate(with(b -> b.setDnsNames(names)), ID).request().getDnsNames())
        .containsExactly("same.example");
  }

  @Test
  void anUnknownProfileIsItsOwnProblemAndListsTheConfiguredOnes() {
    RequestValidator.Outcome outcome = validator.validate(with(b -> b.setCaProfile("zerossl")), ID);
    assertThat(outcome.problemType()).isEqualTo(RequestValidator.UNKNOWN_CA_PROFILE);
    assertThat(outcome.detail())
        .isEqualTo("CA profile 'zerossl' is not configured here (configured: letsencrypt, pebble)");
  }

  @Test
  void aKeyThatIsNotTheRequestIdIsRejected() {
    RequestValidator.Outcome outcome = validator.validate(base().build(), "other-key");
    assertThat(outcome.detail()).contains("the record key 'other-key' differs from requestId");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    RequestValidator.Outcome outcome =
        validator.validate(
            with(
                b ->
                    b.setRequestId("x")
                        .setDnsNames(List.of("a_b.example", "192.0.2.1"))
                        .setAttempt(0)),
            "x");
    assertThat(outcome.detail().split("; "))
        .containsExactly(
            "requestId 'x' is not a UUID",
            "attempt must be 1 or more",
            "'a_b.example' has a character that is not a letter, digit or '-': '_'",
            "'192.0.2.1' is an IP address or ends in a numeric label (only DNS names are ordered)");
  }

  static {
    AcmeSessions.registerBouncyCastle();
  }

  static String csr(KeyPair key, String... names) throws IOException {
    CSRBuilder builder = new CSRBuilder();
    builder.addDomains(names);
    builder.sign(key);
    StringWriter out = new StringWriter();
    builder.write(out);
    return out.toString();
  }

  @Test
  void aCsrWithTheRequestedNamesIsAccepted() throws IOException {
    String pem = csr(KeyPairUtils.createKeyPair(2048), "shop.example", "www.shop.example");
    RequestValidator.Outcome outcome =
        validator.validate(
            with(b -> b.setDnsNames(List.of("www.shop.example", "SHOP.example")).setCsrPem(pem)),
            ID);
    assertThat(outcome.valid()).as(outcome.detail()).isTrue();
  }

  @Test
  void aCsrWithOtherNamesIsRejectedNamingTheDifference() throws IOException {
    String pem = csr(KeyPairUtils.createKeyPair(2048), "shop.example", "evil.example");
    RequestValidator.Outcome outcome =
        validator.validate(
            with(b -> b.setDnsNames(List.of("shop.example", "www.shop.example")).setCsrPem(pem)),
            ID);
    assertThat(outcome.problemType()).isEqualTo(RequestValidator.INVALID_CSR);
    assertThat(outcome.detail())
        .contains("the CSR lacks requested names [www.shop.example]")
        .contains("the CSR has names that were not requested [evil.example]");
  }

  @Test
  void aCsrWhoseSignatureDoesNotVerifyIsRejected() throws IOException {
    String pem = csr(KeyPairUtils.createKeyPair(2048), "shop.example");
    // Flip one character inside the base64 body, in the signature at the end.
    String[] lines = pem.split("\n");
    int last = lines.length - 2;
    char[] chars = lines[last].toCharArray();
    chars[chars.length / 2] = chars[chars.length / 2] == 'A' ? 'B' : 'A';
    lines[last] = new String(chars);
    String broken = String.join("\n", lines) + "\n";
    RequestValidator.Outcome outcome = validator.validate(with(b -> b.setCsrPem(broken)), ID);
    assertThat(outcome.problemType()).isEqualTo(RequestValidator.INVALID_CSR);
    assertThat(outcome.detail())
        .containsAnyOf("signature does not verify", "cannot be parsed", "cannot be checked");
  }

  @Test
  void garbageInsteadOfACsrIsRejected() {
    RequestValidator.Outcome outcome = validator.validate(with(b -> b.setCsrPem("hello")), ID);
    assertThat(outcome.problemType()).isEqualTo(RequestValidator.INVALID_CSR);
    assertThat(outcome.detail()).isEqualTo("csrPem is not a PEM CERTIFICATE REQUEST");
  }

  @Test
  void anUnknownKeyTypeIsFineWhenTheRequestBringsItsOwnCsr() throws IOException {
    String pem = csr(KeyPairUtils.createKeyPair(2048), "shop.example");
    assertThat(
            validator.validate(with(b -> b.setKeyType(KeyType.UNKNOWN).setCsrPem(pem)), ID).valid())
        .isTrue();
    assertThat(validator.validate(with(b -> b.setKeyType(KeyType.UNKNOWN)), ID).detail())
        .contains("keyType is not one this version knows");
  }
}
