package dev.renewal.cli;

import dev.renewal.config.Settings;
import dev.renewal.runtime.PipelineContext;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topics;
import java.util.Map;

/**
 * What the operator's commands need: Kafka client properties, serdes through the registry, the
 * topic catalogue. Defaults fit {@code renewal stack} on this machine (127.0.0.1:9092, :8081).
 */
record OpsContext(Map<String, Object> kafka, AvroSerdes serdes, Topics topics) {
  static final Map<String, String> DEFAULTS =
      Map.of("kafka.bootstrap.servers", "127.0.0.1:9092", "registry.url", "http://127.0.0.1:8081");

  /** How long a command waits for the broker or the registry to answer before it says so. */
  static final java.time.Duration REACH = java.time.Duration.ofSeconds(5);

  /**
   * The context of {@code raw}, once the broker and the registry answered.
   *
   * @throws Unreachable with one line saying which does not answer, and what to do
   */
  static OpsContext load(Settings raw) {
    Settings settings = raw.withDefaults(DEFAULTS);
    PipelineContext pipeline = PipelineContext.load(settings);
    String bootstrap = settings.reader().string("kafka.bootstrap.servers");
    String registry = settings.reader().string("registry.url");
    checkBroker(pipeline.kafka(), bootstrap);
    checkRegistry(registry);
    return new OpsContext(pipeline.kafka(), pipeline.serdes(), pipeline.topics());
  }

  static void checkBroker(Map<String, Object> kafka, String bootstrap) {
    Map<String, Object> props = new java.util.HashMap<>(kafka);
    props.put(
        org.apache.kafka.clients.admin.AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) REACH.toMillis());
    props.put(
        org.apache.kafka.clients.admin.AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
        (int) REACH.toMillis());
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(props)) {
      admin
          .describeCluster()
          .nodes()
          .get(REACH.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException
        | org.apache.kafka.common.KafkaException e) {
      throw new Unreachable(
          "no Kafka broker answers at "
              + bootstrap
              + " within "
              + REACH.toSeconds()
              + " s: start one with `renewal stack`, or set kafka.bootstrap.servers");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted while reaching the Kafka broker at " + bootstrap);
    }
  }

  static void checkRegistry(String registry) {
    String subjects = registry.replaceAll("/+$", "") + "/subjects";
    int status;
    try {
      java.net.http.HttpResponse<Void> response =
          java.net.http.HttpClient.newBuilder()
              .connectTimeout(REACH)
              .build()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(subjects))
                      .timeout(REACH)
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.discarding());
      status = response.statusCode();
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new Unreachable(
          "no schema registry answers at "
              + registry
              + " ("
              + e.getClass().getSimpleName()
              + "): `renewal stack` runs one; or set registry.url");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted while reaching the schema registry at " + registry);
    }
    if (status != 200) {
      throw new Unreachable(
          "the schema registry at "
              + registry
              + " answered HTTP "
              + status
              + " to GET "
              + subjects
              + ": is registry.url the registry's address (with its path prefix, if any)?");
    }
  }
}
