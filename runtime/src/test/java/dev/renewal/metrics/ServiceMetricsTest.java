package dev.renewal.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ServiceMetricsTest {
  private final ServiceMetrics metrics = new ServiceMetrics("order-service");

  @Test
  void countersAreSummedOverTheirTagsAndNamedWithThePrefix() {
    metrics.count("orders.placed");
    metrics.count("orders.placed");
    metrics.count("ca.retries", "kind", "RATE_LIMITED");
    metrics.count("ca.retries", "kind", "TRANSIENT");
    metrics.count("ca.retries", "kind", "TRANSIENT");

    assertThat(metrics.get("orders.placed")).isEqualTo(2);
    assertThat(metrics.get("ca.retries")).isEqualTo(3);
    assertThat(metrics.get("ca.retries", "kind", "TRANSIENT")).isEqualTo(2);
    assertThat(metrics.get("never.counted")).isZero();
    assertThat(metrics.snapshot())
        .containsEntry("orders.placed", 2L)
        .containsEntry("ca.retries", 3L);
  }

  @Test
  void aCountKeptElsewhereIsScrapedAsACounterWithItsTags() {
    AtomicInteger served = new AtomicInteger();
    metrics.countedBy("http01.requests", served::get, "outcome", "served");
    served.addAndGet(3);

    assertThat(metrics.scrape())
        .contains(
            "renewal_http01_requests_total{outcome=\"served\",service=\"order-service\"} 3.0");
  }

  @Test
  void failuresCarryStageAndProblemType() {
    metrics.failed("CHALLENGE", "urn:ietf:params:acme:error:dns");
    metrics.failed("CHALLENGE", null);

    assertThat(metrics.get("failures", "stage", "challenge")).isEqualTo(2);
    assertThat(metrics.get("failures", "problem_type", "urn:ietf:params:acme:error:dns"))
        .isEqualTo(1);
    assertThat(metrics.get("failures", "problem_type", "unknown")).isEqualTo(1);
  }

  @Test
  void theScrapeHasPrometheusNamesHistogramBucketsGaugesAndTheServiceTag() {
    AtomicInteger inFlight = new AtomicInteger(7);
    metrics.inFlight("requests", inFlight::get);
    metrics.count("requests.received");
    Instant t0 = Instant.parse("2026-11-27T10:00:00Z");
    metrics.stageLatency("order", t0, t0.plusMillis(250));
    metrics.stageLatency("order", t0, t0.minusSeconds(1)); // clock skew: counted as zero

    String text = metrics.scrape();

    assertThat(text)
        .contains("renewal_requests_received_total{service=\"order-service\"} 1")
        .contains("renewal_in_flight{service=\"order-service\",what=\"requests\"} 7")
        .contains(
            "renewal_stage_latency_seconds_count{service=\"order-service\",stage=\"order\"} 2")
        .contains("renewal_stage_latency_seconds_bucket{")
        .contains("jvm_memory_used_bytes");
    assertThat(text).doesNotContain("stage=\"finalize\"");
  }

  @Test
  void theEndpointServesTheScrapeAndRefusesOtherMethods() throws Exception {
    metrics.count("orders.placed");
    try (MetricsEndpoint endpoint =
        MetricsEndpoint.startUnlessDisabled(metrics, new MetricsEndpoint.Address("127.0.0.1", 0))) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = endpoint.uri();
      HttpResponse<String> got =
          http.send(
              HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(got.statusCode()).isEqualTo(200);
      assertThat(got.headers().firstValue("Content-Type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
      assertThat(got.body()).contains("renewal_orders_placed_total{service=\"order-service\"} 1");

      HttpResponse<String> post =
          http.send(
              HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(uri.resolve("/health")).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).isEqualTo("ok\n");
    }
  }

  @Test
  void portMinusOneServesNothingAndABusyPortIsAClearError() {
    assertThat(
            MetricsEndpoint.startUnlessDisabled(
                metrics, new MetricsEndpoint.Address("127.0.0.1", -1)))
        .isNull();
    try (MetricsEndpoint first = MetricsEndpoint.start(metrics, "127.0.0.1", 0)) {
      int taken = first.uri().getPort();
      assertThatThrownBy(() -> MetricsEndpoint.start(metrics, "127.0.0.1", taken))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("order-service's metrics on 127.0.0.1:" + taken);
    }
  }
}
