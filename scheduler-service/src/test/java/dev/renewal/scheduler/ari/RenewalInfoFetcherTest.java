package dev.renewal.scheduler.ari;

import static org.assertj.core.api.Assertions.assertThat;

import dev.renewal.acme.CaProfile;
import dev.renewal.acme.CaProfiles;
import dev.renewal.contract.SampleEvents;
import dev.renewal.events.CurrentCertificate;
import dev.renewal.events.ManagedCertificate;
import dev.renewal.events.RenewalInfoObserved;
import dev.renewal.testkit.HandlerFixture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the fetcher asks for a certificate's renewal information, and which CA. */
class RenewalInfoFetcherTest {
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final CaProfile PROFILE =
      HandlerFixture.profile(Duration.ofMinutes(1), Duration.ofMinutes(1));
  private static final CaProfiles PROFILES = CaProfiles.of(PROFILE);

  private static ManagedCertificate certificate(String ariCertId, String issuedBy) {
    return ManagedCertificate.newBuilder()
        .setCertificateName("shop")
        .setManaged(true)
        .setRequest(
            dev.renewal.events.RenewalRequested.newBuilder(SampleEvents.request())
                .setCaProfile(PROFILE.name())
                .build())
        .setCurrent(
            CurrentCertificate.newBuilder()
                .setRequestId("r1")
                .setSerialNumber("0a")
                .setNotBefore(NOW.minus(Duration.ofDays(1)))
                .setNotAfter(NOW.plus(Duration.ofDays(89)))
                .setIssuer("CN=test")
                .setAriCertId(ariCertId)
                .setCaProfile(issuedBy)
                .build())
        .setAttempts(new ArrayList<>())
        .setUpdatedAt(NOW)
        .build();
  }

  private static RenewalInfoObserved answer(String ariCertId, Instant next) {
    return RenewalInfoObserved.newBuilder()
        .setEventId("e")
        .setOccurredAt(NOW.minusSeconds(60))
        .setCertificateName("shop")
        .setCaProfile(PROFILE.name())
        .setSerialNumber("0a")
        .setAriCertId(ariCertId)
        .setNextFetchAt(next)
        .build();
  }

  @Test
  void aCertificateWithNoAnswerYetIsFetchedAtOnceFromTheProfileThatIssuedIt() {
    Map.Entry<CaProfile, Instant> when =
        RenewalInfoFetcher.schedule(certificate("a.b", null), PROFILES, null, NOW).orElseThrow();
    assertThat(when.getKey()).isEqualTo(PROFILE);
    assertThat(when.getValue()).isEqualTo(NOW);
    assertThat(RenewalInfoFetcher.schedule(certificate("a.b", PROFILE.name()), PROFILES, null, NOW))
        .map(Map.Entry::getKey)
        .contains(PROFILE);
  }

  @Test
  void theInventorysAnswerForTheCurrentCertificateSaysWhenAndOneFetchedHereSinceToo() {
    Instant next = NOW.plus(Duration.ofHours(6));
    ManagedCertificate s =
        ManagedCertificate.newBuilder(certificate("a.b", null))
            .setRenewalInfo(answer("a.b", next))
            .build();
    assertThat(RenewalInfoFetcher.schedule(s, PROFILES, null, NOW).orElseThrow().getValue())
        .isEqualTo(next);
    // Fetched here since: the inventory has not caught up yet.
    Instant later = NOW.plus(Duration.ofHours(7));
    assertThat(
            RenewalInfoFetcher.schedule(s, PROFILES, Map.entry("a.b", later), NOW)
                .orElseThrow()
                .getValue())
        .isEqualTo(later);
    // An answer about the certificate before it: the new one is fetched at once.
    ManagedCertificate renewed =
        ManagedCertificate.newBuilder(certificate("c.d", null))
            .setRenewalInfo(answer("a.b", next))
            .build();
    assertThat(
            RenewalInfoFetcher.schedule(renewed, PROFILES, Map.entry("a.b", later), NOW)
                .orElseThrow()
                .getValue())
        .isEqualTo(NOW);
  }

  @Test
  void nothingIsFetchedForAnUnmanagedCertificateOneWithoutIdOrAnUnknownProfile() {
    ManagedCertificate unmanaged =
        ManagedCertificate.newBuilder(certificate("a.b", null)).setManaged(false).build();
    assertThat(RenewalInfoFetcher.schedule(unmanaged, PROFILES, null, NOW)).isEmpty();
    assertThat(RenewalInfoFetcher.schedule(certificate(null, null), PROFILES, null, NOW)).isEmpty();
    assertThat(RenewalInfoFetcher.schedule(certificate("a.b", "elsewhere"), PROFILES, null, NOW))
        .isEqualTo(Optional.empty());
    ManagedCertificate notIssued =
        ManagedCertificate.newBuilder(certificate("a.b", null)).setCurrent(null).build();
    assertThat(RenewalInfoFetcher.schedule(notIssued, PROFILES, null, NOW)).isEmpty();
  }
}
